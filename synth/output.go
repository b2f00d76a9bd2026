package synth

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"claimsbatch/claim"
)

// The writers of the three files, one implementation per format.
type memberWriter interface {
	member(g *gen, m *member) error
	close() error
}

type claimWriter interface {
	line(g *gen, l *line, claimNo int64) error
	close() error
}

type fxWriter interface {
	rate(d claim.Date, currency, planCurrency string, micro int64) error
	close() error
}

// outFile is one output file written under a temporary name in the output
// directory and renamed to its final name by commit.
type outFile struct {
	final, tmp string
	f          *os.File
	fileBuf    *bufio.Writer // under gzip only: gzip makes small writes
	gz         *gzip.Writer
	w          *chunkWriter
}

func createOut(ctx context.Context, dir, name, format string) (*outFile, error) {
	final := filepath.Join(dir, name+"."+format)
	f, err := os.CreateTemp(dir, "."+name+"."+format+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("synth: %w", err)
	}
	o := &outFile{final: final, tmp: f.Name(), f: f}
	var w io.Writer = f
	if format == "csv.gz" {
		// BestSpeed: the files are for trials, and gzip at the default level
		// is several times slower than the generator.
		o.fileBuf = bufio.NewWriterSize(f, 1<<18)
		o.gz, _ = gzip.NewWriterLevel(o.fileBuf, gzip.BestSpeed)
		w = o.gz
	}
	o.w = newChunkWriter(ctx, w)
	return o, nil
}

// finish flushes and closes the file (still under its temporary name).
func (o *outFile) finish() error {
	err := o.w.close()
	if o.gz != nil {
		err = errors.Join(err, o.gz.Close(), o.fileBuf.Flush())
	}
	err = errors.Join(err, o.f.Chmod(0o644), o.f.Close())
	if err != nil {
		return fmt.Errorf("synth: writing %s: %w", o.final, err)
	}
	return nil
}

type outputs struct {
	members, claims, fx *outFile
	membersW            memberWriter
	claimsW             claimWriter
	fxW                 fxWriter
	done                bool
}

func openOutputs(ctx context.Context, cfg Config) (*outputs, error) {
	format := cfg.Format
	if format == "" {
		format = "csv"
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("synth: %w", err)
	}
	out := &outputs{}
	var err error
	if out.members, err = createOut(ctx, cfg.Dir, "members", format); err != nil {
		return nil, err
	}
	if out.claims, err = createOut(ctx, cfg.Dir, "claims", format); err != nil {
		out.abort()
		return nil, err
	}
	if out.fx, err = createOut(ctx, cfg.Dir, "fx", format); err != nil {
		out.abort()
		return nil, err
	}
	if format == "parquet" {
		// Assigned only on success: a typed nil in the interface would make
		// abort call close on it.
		members, err := newParquetMembers(ctx, out.members.w)
		if err != nil {
			out.abort()
			return nil, err
		}
		out.membersW = members
		claims, err := newParquetClaims(ctx, out.claims.w)
		if err != nil {
			out.abort()
			return nil, err
		}
		out.claimsW = claims
		fx, err := newParquetFX(ctx, out.fx.w)
		if err != nil {
			out.abort()
			return nil, err
		}
		out.fxW = fx
	} else {
		out.membersW = newCSVMembers(out.members.w)
		out.claimsW = newCSVClaims(out.claims.w)
		out.fxW = newCSVFX(out.fx.w)
	}
	return out, nil
}

// commit completes the three files and gives them their final names.
func (out *outputs) commit() error {
	err := errors.Join(out.membersW.close(), out.claimsW.close(), out.fxW.close())
	if err != nil {
		return err
	}
	for _, o := range []*outFile{out.members, out.claims, out.fx} {
		if err := o.finish(); err != nil {
			return err
		}
	}
	for _, o := range []*outFile{out.members, out.claims, out.fx} {
		if err := os.Rename(o.tmp, o.final); err != nil {
			return fmt.Errorf("synth: %w", err)
		}
	}
	out.done = true
	return nil
}

// abort removes the temporary files of an unfinished run.
func (out *outputs) abort() {
	if out.done {
		return
	}
	out.done = true
	// Stop the writers (Parquet ones run an encoder goroutine); what they
	// write goes to temporary files about to be removed.
	for _, w := range []interface{ close() error }{out.membersW, out.claimsW, out.fxW} {
		if w != nil {
			w.close()
		}
	}
	for _, o := range []*outFile{out.members, out.claims, out.fx} {
		if o != nil {
			o.w.close()
			o.f.Close()
			os.Remove(o.tmp)
		}
	}
}
