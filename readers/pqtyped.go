package readers

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/arrow-go/v18/parquet/schema"
	"golang.org/x/sync/errgroup"

	"claimsbatch/claim"
)

// A Parquet claims file is read row group by row group, the row groups in
// parallel, each by one goroutine with decoders of its own. The columns of
// the common types are read with arrow-go's typed column readers straight
// into the values the row checks take (strings, and tokens for integers,
// dates and amounts, see typed.go): no Arrow arrays, no text. A column of
// any other type, and every column the reader does not use (for the raw
// text of a bad row), is read through arrow-go's Arrow reader as before.
// The raw text of a row is built only for an exception, or when asked
// (Batch.Raw).
//
// A row whose typed values pass the checks gives its line at once. A row
// that fails them, or whose strings are not valid UTF-8 or too long, is
// checked again from its text, exactly as the text path does (parquetSource
// and table.next): so its exception, message and raw text are the text
// path's, and so are the lines.

// minTypedField: with Options.MaxFieldBytes below this, the text of a typed
// value could be over the limit (a PARSE_ERROR of the text path), so such a
// reader takes the text path.
const minTypedField = 128

// pqMode is how the typed reader reads a column.
type pqMode uint8

const (
	pqUnused  pqMode = iota // Arrow, for raw text only
	pqArrow                 // Arrow, then its text (a type without a typed path)
	pqBytes                 // BYTE_ARRAY strings
	pqInt32                 // INT32 integers
	pqInt64                 // INT64 integers
	pqDate                  // INT32 DATE
	pqDec32                 // DECIMAL as INT32
	pqDec64                 // DECIMAL as INT64
	pqDecFLBA               // DECIMAL as FIXED_LEN_BYTE_ARRAY of at most 16 bytes
	pqBool                  // BOOLEAN
)

// pqColumn is one flat column of the file.
type pqColumn struct {
	name   string
	leaf   int  // Parquet leaf column
	field  int  // pqarrow manifest field
	kind   kind // how the claims reader uses it; 0 = unused
	mode   pqMode
	scale  int32 // DECIMAL
	maxDef int16
}

// pqInput is a Parquet claims file opened for the typed reader.
type pqInput struct {
	pf        *file.Reader
	fr        *pqarrow.FileReader
	cols      []pqColumn // in file order
	used      []int      // the columns the reader uses
	groupRows []int64
	// lineNoTyped: line_no is read as an integer, so an accepted line's
	// line_no as written is Line.LineNo.
	lineNoTyped bool
	maxField    int
}

// newPQInput prepares the typed read of a Parquet claims file opened by s,
// or returns nil for the text path.
func newPQInput(s *parquetSource, t *table, opt Options) *pqInput {
	if t.maxField < minTypedField {
		return nil
	}
	in := pqInputOf(s, t.maxField)
	if j := t.idx[cLineNo]; j >= 0 {
		m := in.cols[j].mode
		in.lineNoTyped = m == pqInt32 || m == pqInt64
	}
	return in
}

// pqInputOf prepares the typed read of the columns of a Parquet file opened
// by s; strings longer than maxField are marked bad (pqRows.str).
func pqInputOf(s *parquetSource, maxField int) *pqInput {
	md := s.pf.MetaData()
	in := &pqInput{pf: s.pf, fr: s.fr, maxField: maxField}
	for j, name := range s.names {
		descr := md.Schema.Column(s.leaves[j])
		c := pqColumn{name: name, leaf: s.leaves[j], field: s.fields[j], kind: s.kinds[j], maxDef: descr.MaxDefinitionLevel()}
		if c.kind != 0 {
			c.mode, c.scale = typedMode(descr, s.types[j])
			if descr.MaxRepetitionLevel() > 0 {
				c.mode = pqArrow
			}
			in.used = append(in.used, j)
		}
		in.cols = append(in.cols, c)
	}
	for g := range s.pf.NumRowGroups() {
		in.groupRows = append(in.groupRows, md.RowGroup(g).NumRows())
	}
	return in
}

// typedMode picks the typed read of a column of Arrow type typ (as pqarrow
// reads it, and the text path with it) and Parquet type descr.
func typedMode(descr *schema.Column, typ arrow.DataType) (pqMode, int32) {
	phys := descr.PhysicalType()
	switch typ.ID() {
	case arrow.STRING, arrow.BINARY:
		if phys == parquet.Types.ByteArray {
			return pqBytes, 0
		}
	case arrow.INT32:
		if phys == parquet.Types.Int32 {
			return pqInt32, 0
		}
	case arrow.INT64:
		if phys == parquet.Types.Int64 {
			return pqInt64, 0
		}
	case arrow.DATE32:
		if phys == parquet.Types.Int32 {
			return pqDate, 0
		}
	case arrow.DECIMAL128:
		scale := typ.(*arrow.Decimal128Type).Scale
		switch {
		case phys == parquet.Types.Int32:
			return pqDec32, scale
		case phys == parquet.Types.Int64:
			return pqDec64, scale
		case phys == parquet.Types.FixedLenByteArray && descr.TypeLength() <= 16:
			return pqDecFLBA, scale
		}
	case arrow.BOOL:
		if phys == parquet.Types.Boolean {
			return pqBool, 0
		}
	}
	return pqArrow, 0
}

// pqRows holds a batch's rows column by column: per column, what the row
// checks see (the text, or a token, "" for null) and the typed value (for
// the row's raw text); the columns read through Arrow as Arrow arrays.
type pqRows struct {
	in    *pqInput
	group int
	first int // index of the batch's first row in its row group
	n     int
	cols  []pqValues
	bad   []bool // a string is not valid UTF-8 or too long: check the text
	arena []byte // the bytes of the strings
	// With Options.KeepRaw, the raw text of each accepted row, made by the
	// parsing goroutine (in rawArena) rather than by Raw on the caller's.
	rawOf    []string
	rawArena []byte
	scratch  []byte
}

type pqValues struct {
	cell []pqCell       // per row: what the row checks read, in the arena
	num  []int64        // a numeric column's: the typed value of a token cell
	arr  *arrow.Chunked // pqUnused: the column, for raw text
	src  []arrow.Array  // arr's chunks, with the row each starts at
	at   []int
}

// pqCell is a row's value of a column: where it lies in the batch's arena
// (n 0: null or empty). Offsets rather than a string: half the size, no
// pointer for the collector, and valid however often the arena grows.
type pqCell struct{ off, n uint32 }

// cellString returns row i's value of v as a string in the arena.
func (rows *pqRows) cellString(v *pqValues, i int) string {
	c := v.cell[i]
	if c.n == 0 {
		return ""
	}
	return unsafe.String(&rows.arena[c.off], int(c.n))
}

// cellFrom returns the cell of arena[start:].
func (rows *pqRows) cellFrom(start int) pqCell {
	return pqCell{uint32(start), uint32(len(rows.arena) - start)}
}

// numeric reports whether a column's cells may be tokens.
func (c *pqColumn) numeric() bool {
	switch c.mode {
	case pqInt32, pqInt64, pqDate, pqDec32, pqDec64, pqDecFLBA:
		return true
	}
	return false
}

func (r *ClaimsReader) newPQRows(g, first, n int) *pqRows { return r.pq.newRows(g, first, n) }

// newRows returns rows for n rows of row group g from its row first.
func (in *pqInput) newRows(g, first, n int) *pqRows {
	rows, _ := pqRowsPool.Get().(*pqRows)
	if rows == nil {
		rows = new(pqRows)
	}
	if len(rows.cols) != len(in.cols) {
		rows.cols = make([]pqValues, len(in.cols))
	}
	rows.in, rows.group, rows.first, rows.n = in, g, first, n
	rows.bad = resize(rows.bad, n)
	clear(rows.bad)
	rows.arena = rows.arena[:0]
	for j := range rows.cols {
		v := &rows.cols[j]
		if c := &in.cols[j]; c.kind != 0 {
			v.cell = resize(v.cell, n)
			if c.numeric() {
				v.num = resize(v.num, n)
			}
		}
	}
	return rows
}

func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// release gives the rows back to the reader; the arena stays with the lines
// of Next, which may be kept.
func (rows *pqRows) release(r *ClaimsReader) { rows.free(r.legacy) }

// free releases the rows' Arrow columns and gives the rows back to the
// pool; with drop, their arenas are left to the strings made in them.
func (rows *pqRows) free(drop bool) {
	for j := range rows.cols {
		v := &rows.cols[j]
		if v.arr != nil {
			v.arr.Release()
			v.arr, v.src, v.at = nil, v.src[:0], v.at[:0]
		}
	}
	clear(rows.rawOf)
	rows.rawOf = rows.rawOf[:0]
	rows.rawArena = rows.rawArena[:0]
	if drop {
		rows.arena, rows.rawArena = nil, nil
	}
	rows.in = nil
	pqRowsPool.Put(rows)
}

// pqWorker is a goroutine's scratch space for the typed column readers.
type pqWorker struct {
	defs    []int16
	i32     []int32
	i64     []int64
	bools   []bool
	bytes   []parquet.ByteArray
	flba    []parquet.FixedLenByteArray
	rec     []string
	text    []byte
	ends    []int // pqAhead.readTypedGroup's
	scratch []byte
}

// producePQ queues a unit per row group.
func (r *ClaimsReader) producePQ(ctx context.Context, work *errgroup.Group) error {
	for g := range r.pq.groupRows {
		if err := r.dispatch(ctx, work, func(ctx context.Context, w *worker, u *unit) {
			r.readGroup(ctx, w, g, u)
		}); err != nil {
			return err
		}
	}
	return nil
}

// pqGroup is the open column readers of one row group.
type pqGroup struct {
	typed []file.ColumnChunkReader // per column, for the typed modes
	arrow []*pqarrow.ColumnReader  // per column, for pqArrow and pqUnused
}

// openGroup opens the column readers of row group g; on an error, the
// readers opened so far are in the group returned, for close, and j is the
// column that failed.
func (in *pqInput) openGroup(ctx context.Context, g int) (grp *pqGroup, j int, err error) {
	grp = &pqGroup{typed: make([]file.ColumnChunkReader, len(in.cols)), arrow: make([]*pqarrow.ColumnReader, len(in.cols))}
	rgr := in.pf.RowGroup(g)
	for j, c := range in.cols {
		switch c.mode {
		case pqUnused, pqArrow:
			grp.arrow[j], err = in.fr.GetFieldReader(ctx, c.field, map[int]bool{c.leaf: true}, []int{g})
		default:
			grp.typed[j], err = rgr.Column(c.leaf)
		}
		if err != nil {
			return grp, j, err
		}
	}
	return grp, 0, nil
}

func (g *pqGroup) close() {
	for _, c := range g.typed {
		if c != nil {
			c.Close()
		}
	}
	for _, c := range g.arrow {
		if c != nil {
			c.Release()
		}
	}
}

// readGroup reads, checks and sends the rows of row group g in batches of
// at most Options.BatchSize rows, numbered from the group's start. A broken
// file is a failure at the first row of the batch being read.
func (r *ClaimsReader) readGroup(ctx context.Context, w *worker, g int, u *unit) {
	in := r.pq
	if w.pq == nil {
		w.pq = new(pqWorker)
	}
	var done int64 // rows of the group sent
	var grp *pqGroup
	defer func() {
		// The Parquet decoder can panic on a malformed file, and the
		// budget allocator panics past the expansion limit: at this
		// boundary of the third-party code a panic is a broken file
		// (see newParquetSource).
		if p := recover(); p != nil {
			r.send(ctx, u, unitItem{row: done + 1, err: decoderPanic("Parquet decoder", p)})
		}
		if grp != nil {
			grp.close()
		}
	}()
	fail := func(err error) {
		if e, ok := asExpansion(err); ok {
			err = fmt.Errorf("%w: %w", e, ErrCorrupt)
		} else {
			err = fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		r.send(ctx, u, unitItem{row: done + 1, err: err})
	}
	var err error
	var j int
	if grp, j, err = in.openGroup(ctx, g); err != nil {
		fail(fmt.Errorf("column %s: %w", in.cols[j].name, err))
		return
	}
	total := in.groupRows[g]
	for done < total {
		n := int(min(int64(r.opt.BatchSize), total-done))
		rows := r.newPQRows(g, int(done), n)
		b := r.newBatch(done + 1)
		b.RowGroup, b.pq = g, rows
		for j := range in.cols {
			if err := w.pq.read(grp, j, rows); err != nil {
				b.Release()
				fail(fmt.Errorf("column %s: %w", in.cols[j].name, err))
				return
			}
		}
		r.checkRows(w, b, done)
		if !r.send(ctx, u, unitItem{b: b}) {
			return
		}
		done += int64(n)
	}
}

// checkRows checks the rows of b, which follow row done of the group.
func (r *ClaimsReader) checkRows(w *worker, b *Batch, done int64) {
	in, rows, rp := r.pq, b.pq, &w.p
	keepRaw := r.opt.KeepRaw
	rec := resize(w.pq.rec, len(in.cols))
	w.pq.rec = rec
	clear(rec)
	originOf := func(i int) origin {
		o := origin{start: int32(i)}
		if !in.lineNoTyped {
			o.lineNo = rp.t.field(rec, cLineNo)
		}
		return o
	}
	for i := range rows.n {
		rp.t.rows = done + int64(i) + 1
		if !rows.bad[i] {
			for _, j := range in.used {
				rec[j] = rows.cellString(&rows.cols[j], i)
			}
			rp.t.recordBytes = 0 // no detach: the strings are the batch's
			b.Lines = append(b.Lines, claim.Line{})
			if rp.parse(rec, &b.Lines[len(b.Lines)-1]).code == "" {
				b.NumRows++
				b.origins = append(b.origins, originOf(i))
				if keepRaw {
					rows.keepRaw(i)
				}
				continue
			}
			b.Lines = b.Lines[:len(b.Lines)-1]
		}
		// The text path, for the exception's message and raw text (or the
		// line of a row whose strings only the text path takes): the
		// text of the typed values (in the arena, like the strings: an
		// accepted line may point into it), and the row's text as one
		// string for the UTF-8 check.
		text := w.pq.text[:0]
		for _, j := range in.used {
			start := len(text)
			text = rows.appendText(text, j, i)
			rec[j] = rows.cellString(&rows.cols[j], i)
			if _, ok := typedValue(rec[j]); ok {
				at := len(rows.arena)
				rows.arena = append(rows.arena, text[start:]...)
				rec[j] = bytesString(rows.arena[at:])
			}
		}
		w.pq.text = text
		var p problem
		if !utf8.Valid(text) {
			p = invalidUTF8(rec)
		} else {
			p = rp.t.sizeProblem(rec)
		}
		if b.add(rp, rec, p, rows.raw(i)) {
			b.origins = append(b.origins, originOf(i))
			if keepRaw {
				rows.keepRaw(i)
			}
		}
	}
	clear(rec)
}

// appendText appends the text of column j of row i as the text path has it
// (parquetSource.next): "" for null.
func (rows *pqRows) appendText(b []byte, j, i int) []byte {
	v := &rows.cols[j]
	s := rows.cellString(v, i)
	c := &rows.in.cols[j]
	if _, ok := typedValue(s); !ok || !c.numeric() {
		return append(b, s...)
	}
	n := v.num[i]
	switch c.mode {
	case pqDate:
		return claim.Date(n).AppendTo(b)
	case pqDec32, pqDec64, pqDecFLBA:
		return appendScaled(b, strconv.AppendInt(b[len(b):], n, 10), c.scale)
	}
	return strconv.AppendInt(b, n, 10)
}

// raw returns row i as a CSV line in the file's column order, as the text
// path's raw text: the used columns as the row checks read them, the others
// in Arrow's text form.
func (rows *pqRows) raw(i int) string {
	if i < len(rows.rawOf) && rows.rawOf[i] != "" {
		return rows.rawOf[i]
	}
	return string(rows.appendRaw(nil, i))
}

// keepRaw makes row i's raw text in the rows' own memory, for raw.
func (rows *pqRows) keepRaw(i int) {
	if len(rows.rawOf) != rows.n {
		rows.rawOf = resize(rows.rawOf, rows.n)
		clear(rows.rawOf)
	}
	start := len(rows.rawArena)
	rows.rawArena = rows.appendRaw(rows.rawArena, i)
	if start == 0 && cap(rows.rawArena) < rows.n*len(rows.rawArena) {
		// Room for the batch's rows at once, rather than copies as it grows.
		grown := make([]byte, len(rows.rawArena), rows.n*len(rows.rawArena)*5/4)
		copy(grown, rows.rawArena)
		rows.rawArena = grown
	}
	rows.rawOf[i] = bytesString(rows.rawArena[start:])
}

// appendRaw appends row i's raw text to b.
func (rows *pqRows) appendRaw(b []byte, i int) []byte {
	cell := rows.scratch[:0]
	for j := range rows.cols {
		if j > 0 {
			b = append(b, ',')
		}
		v := &rows.cols[j]
		if rows.in.cols[j].kind != 0 {
			cell = rows.appendText(cell[:0], j, i)
			b = appendCSVField(b, bytesString(cell))
			continue
		}
		a, k := v.array(i)
		if a != nil && !a.IsNull(k) {
			b = appendCSVField(b, a.ValueStr(k))
		}
	}
	rows.scratch = cell
	return b
}

// array returns the Arrow array holding row i of an Arrow-read column and
// the row's index in it.
func (v *pqValues) array(i int) (arrow.Array, int) {
	for k := len(v.at) - 1; k >= 0; k-- {
		if i >= v.at[k] {
			return v.src[k], i - v.at[k]
		}
	}
	return nil, 0
}

// read reads the batch's rows of column j.
func (w *pqWorker) read(grp *pqGroup, j int, rows *pqRows) error {
	if err := w.readColumn(grp, j, rows); err != nil {
		return err
	}
	if len(rows.arena) > math.MaxUint32 {
		return fmt.Errorf("a batch of %d rows holds more than 4 GiB of text", rows.n)
	}
	return nil
}

// readColumn reads the batch's rows of column j into its cells.
func (w *pqWorker) readColumn(grp *pqGroup, j int, rows *pqRows) error {
	c := &rows.in.cols[j]
	v := &rows.cols[j]
	n := rows.n
	switch c.mode {
	case pqUnused, pqArrow:
		ch, err := grp.arrow[j].NextBatch(int64(n))
		if err != nil {
			return err
		}
		if ch.Len() != n {
			ch.Release()
			return fmt.Errorf("%d of %d rows", ch.Len(), n)
		}
		if c.mode == pqUnused {
			v.arr = ch
			at := 0
			for _, a := range ch.Chunks() {
				v.src = append(v.src, a)
				v.at = append(v.at, at)
				at += a.Len()
			}
			return nil
		}
		i := 0
		for _, a := range ch.Chunks() {
			for k := range a.Len() {
				v.cell[i] = pqCell{}
				if !a.IsNull(k) {
					start := len(rows.arena)
					rows.arena = appendValue(rows.arena, a, k, c.kind)
					v.cell[i] = rows.str(start, i, rows.in.maxField)
				}
				i++
			}
		}
		ch.Release()
		return nil
	case pqBytes:
		return w.readBytes(grp.typed[j].(*file.ByteArrayColumnChunkReader), c, v, rows)
	case pqDecFLBA:
		return w.readFLBA(grp.typed[j].(*file.FixedLenByteArrayColumnChunkReader), c, v, rows)
	case pqBool:
		w.bools = resize(w.bools, n)
		k, err := readDense(grp.typed[j].(*file.BooleanColumnChunkReader), n, c.maxDef, w.bools, w.defsFor(n))
		if err != nil {
			return err
		}
		vals := w.bools[:k]
		w.spread(c, n, func(i, at int) {
			start := len(rows.arena)
			if vals[at] {
				rows.arena = append(rows.arena, 'Y')
			} else {
				rows.arena = append(rows.arena, 'N')
			}
			v.cell[i] = rows.cellFrom(start)
		}, v)
		return nil
	case pqInt32, pqDate, pqDec32:
		w.i32 = resize(w.i32, n)
		k, err := readDense(grp.typed[j].(*file.Int32ColumnChunkReader), n, c.maxDef, w.i32, w.defsFor(n))
		if err != nil {
			return err
		}
		vals := w.i32[:k]
		w.spread(c, n, func(i, at int) { rows.setNum(c, v, i, int64(vals[at])) }, v)
		return nil
	case pqInt64, pqDec64:
		w.i64 = resize(w.i64, n)
		k, err := readDense(grp.typed[j].(*file.Int64ColumnChunkReader), n, c.maxDef, w.i64, w.defsFor(n))
		if err != nil {
			return err
		}
		vals := w.i64[:k]
		w.spread(c, n, func(i, at int) { rows.setNum(c, v, i, vals[at]) }, v)
		return nil
	}
	return fmt.Errorf("readers: no typed read for mode %d", c.mode)
}

func (w *pqWorker) defsFor(n int) []int16 {
	w.defs = resize(w.defs, n)
	return w.defs
}

// spread hands each non-null row of a dense read to set (the row, the
// value's index) and makes the null rows "".
func (w *pqWorker) spread(c *pqColumn, n int, set func(i, at int), v *pqValues) {
	if c.maxDef == 0 {
		for i := range n {
			set(i, i)
		}
		return
	}
	at := 0
	for i, d := range w.defs[:n] {
		if d < c.maxDef {
			v.cell[i] = pqCell{}
			continue
		}
		set(i, at)
		at++
	}
}

// pageReader is a typed column reader of arrow-go.
type pageReader[T any] interface {
	ReadBatchInPage(batchSize int64, values []T, defLvls, repLvls []int16) (int64, int, error)
}

// readDense reads n rows of a fixed-width column: the non-null values into
// vals (k of them), the definition levels of an optional column into defs.
func readDense[T any](cr pageReader[T], n int, maxDef int16, vals []T, defs []int16) (k int, err error) {
	for got := 0; got < n; {
		var d []int16
		if maxDef > 0 {
			d = defs[got:n]
		}
		rowsRead, read, err := cr.ReadBatchInPage(int64(n-got), vals[k:n], d, nil)
		if err := checkRead(rowsRead, read, err, d, maxDef, got, n); err != nil {
			return k, err
		}
		got += int(rowsRead)
		k += read
	}
	return k, nil
}

// checkRead checks what one ReadBatchInPage call read: rows, and a value
// for every row its definition levels (defs, nil for a required column)
// say is not null. A corrupt page can make the decoder return fewer.
func checkRead(rows int64, values int, err error, defs []int16, maxDef int16, got, n int) error {
	if err != nil {
		return err
	}
	if rows == 0 {
		return fmt.Errorf("the column ends after %d of %d rows", got, n)
	}
	want := int(rows)
	if maxDef > 0 {
		want = 0
		for _, d := range defs[:rows] {
			if d >= maxDef {
				want++
			}
		}
	}
	if values != want {
		return fmt.Errorf("a page gives %d values for %d rows that have one", values, want)
	}
	return nil
}

// setNum sets row i of a numeric column to v: a token where the text form
// of v would read back as exactly that value, the text form otherwise.
func (rows *pqRows) setNum(c *pqColumn, v *pqValues, i int, n int64) {
	v.num[i] = n
	switch c.mode {
	case pqDate:
		if d := claim.Date(n); c.kind == kindDate && d >= minDate && d <= maxDate {
			v.cell[i] = rows.token(n)
			return
		}
		start := len(rows.arena)
		rows.arena = strconv.AppendInt(rows.arena, n, 10)
		v.cell[i] = rows.cellFrom(start)
		return
	case pqDec32, pqDec64, pqDecFLBA:
		if cents, ok := moneyCents(n, c.scale); ok && c.kind == kindMoney {
			v.cell[i] = rows.token(cents)
			return
		}
		start := len(rows.arena)
		rows.arena = appendScaled(rows.arena, strconv.AppendInt(nil, n, 10), c.scale)
		v.cell[i] = rows.cellFrom(start)
		return
	}
	switch {
	case c.kind == kindInt && n >= -maxTypedInt && n <= maxTypedInt:
		v.cell[i] = rows.token(n)
		return
	case c.kind == kindMoney && n >= -maxTypedUnits && n <= maxTypedUnits:
		v.cell[i] = rows.token(n * 100)
		return
	}
	start := len(rows.arena)
	rows.arena = strconv.AppendInt(rows.arena, n, 10)
	v.cell[i] = rows.cellFrom(start)
}

// token appends the token of n to the arena and returns its cell.
func (rows *pqRows) token(n int64) pqCell {
	start := len(rows.arena)
	rows.arena = appendTyped(rows.arena, n)
	return rows.cellFrom(start)
}

// str returns arena[start:] as row i's cell, marking the row for the text
// path when the string is not valid UTF-8 or longer than maxField.
func (rows *pqRows) str(start, i, maxField int) pqCell {
	s := rows.arena[start:]
	if len(s) > maxField || !utf8.Valid(s) {
		rows.bad[i] = true
	}
	return rows.cellFrom(start)
}

// moneyCents returns the cents of the decimal unscaled×10^-scale when its
// text (appendScaled) parses as an amount (claim.ParseMoney) without
// error: at most 15 integer digits, nothing but zeros after two decimals.
func moneyCents(unscaled int64, scale int32) (int64, bool) {
	if scale < 0 || scale > 18 {
		return 0, false
	}
	p := pow10[scale]
	if units := unscaled / p; units > maxTypedUnits || units < -maxTypedUnits {
		return 0, false
	}
	if scale <= 2 {
		return unscaled * pow10[2-scale], true
	}
	q := pow10[scale-2]
	if unscaled%q != 0 {
		return 0, false
	}
	return unscaled / q, true
}

var pow10 = func() (p [19]int64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// readPaged reads n rows of a column whose values are valid only until the
// next page is read (BYTE_ARRAY, FIXED_LEN_BYTE_ARRAY): take gets each
// page's part at once, the rows from first on (their definition levels in
// defs[first:]) and their non-null values.
func readPaged[T any](cr pageReader[T], n int, maxDef int16, vals []T, defs []int16, take func(first, rows int, vals []T)) error {
	for got := 0; got < n; {
		var d []int16
		if maxDef > 0 {
			d = defs[got:n]
		}
		rowsRead, read, err := cr.ReadBatchInPage(int64(n-got), vals[:n-got], d, nil)
		if err := checkRead(rowsRead, read, err, d, maxDef, got, n); err != nil {
			return err
		}
		take(got, int(rowsRead), vals[:read])
		got += int(rowsRead)
	}
	return nil
}

// readBytes reads a BYTE_ARRAY column: each page's values are copied into
// the arena.
func (w *pqWorker) readBytes(cr *file.ByteArrayColumnChunkReader, c *pqColumn, v *pqValues, rows *pqRows) error {
	w.bytes = resize(w.bytes, rows.n)
	defs := w.defsFor(rows.n)
	return readPaged(cr, rows.n, c.maxDef, w.bytes, defs, func(first, n int, vals []parquet.ByteArray) {
		size := 0
		for _, b := range vals {
			size += len(b)
		}
		if cap(rows.arena)-len(rows.arena) < size {
			grown := make([]byte, len(rows.arena), 2*cap(rows.arena)+size)
			copy(grown, rows.arena)
			rows.arena = grown
		}
		start := len(rows.arena)
		for _, b := range vals {
			rows.arena = append(rows.arena, b...)
		}
		check := !isASCII(rows.arena[start:])
		at := 0
		for i := first; i < first+n; i++ {
			if c.maxDef > 0 && defs[i] < c.maxDef {
				v.cell[i] = pqCell{}
				continue
			}
			b := rows.arena[start : start+len(vals[at])]
			v.cell[i] = pqCell{uint32(start), uint32(len(b))}
			start += len(vals[at])
			at++
			if len(b) > rows.in.maxField || check && !utf8.Valid(b) {
				rows.bad[i] = true
			}
		}
	})
}

// readFLBA reads a DECIMAL column stored as FIXED_LEN_BYTE_ARRAY (big
// endian two's complement, at most 16 bytes).
func (w *pqWorker) readFLBA(cr *file.FixedLenByteArrayColumnChunkReader, c *pqColumn, v *pqValues, rows *pqRows) error {
	w.flba = resize(w.flba, rows.n)
	defs := w.defsFor(rows.n)
	return readPaged(cr, rows.n, c.maxDef, w.flba, defs, func(first, n int, vals []parquet.FixedLenByteArray) {
		at := 0
		for i := first; i < first+n; i++ {
			if c.maxDef > 0 && defs[i] < c.maxDef {
				v.cell[i] = pqCell{}
				continue
			}
			num, small := flbaDecimal(vals[at])
			at++
			if small {
				rows.setNum(c, v, i, int64(num.LowBits()))
				continue
			}
			// Beyond int64: text (it is too large for an amount anyway).
			v.num[i] = 0
			start := len(rows.arena)
			rows.arena = appendDecimal128(rows.arena, num, c.scale)
			v.cell[i] = rows.cellFrom(start)
		}
	})
}

// flbaDecimal decodes a big-endian two's complement integer of at most 16
// bytes; small reports whether it fits an int64.
func flbaDecimal(b []byte) (num decimal128.Num, small bool) {
	var hi int64
	var lo uint64
	if len(b) > 0 && b[0]&0x80 != 0 {
		hi, lo = -1, ^uint64(0)
	}
	for _, x := range b {
		hi = hi<<8 | int64(lo>>56)
		lo = lo<<8 | uint64(x)
	}
	num = decimal128.New(hi, lo)
	return num, (hi == 0 && lo < 1<<63) || (hi == -1 && lo >= 1<<63)
}
