package importer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// ManifestName is the name of the manifest an import publishes.
const ManifestName = "manifest.json"

// ErrConservation is returned when the import's own counts do not add up
// (a defect): nothing is published. `claimsbatch import` exits 1.
var ErrConservation = errors.New("importer: conservation check failed")

// Manifest describes one import: what was read, how every source row was
// accounted for, and what was written. It holds no clock time and no
// directory paths, so the same inputs give the same bytes.
type Manifest struct {
	Tool     string        `json:"tool"`
	Version  string        `json:"version"`
	Profile  ProfileInfo   `json:"profile"`
	Plan     PlanInfo      `json:"plan"`
	Format   string        `json:"format"`
	Settings []SettingInfo `json:"settings"` // the --set overrides, in the order given
	Sources  []SourceStats `json:"sources"`
	Absent   []string      `json:"absent_sources"` // optional sources with no file in --in
	Outputs  []OutputInfo  `json:"outputs"`
	// Conservation states the identity checked before publishing.
	Conservation string `json:"conservation"`
}

// ProfileInfo identifies the profile and its code tables.
type ProfileInfo struct {
	Name   string      `json:"name"`
	Source string      `json:"source"`
	SHA256 string      `json:"sha256"`
	Tables []TableInfo `json:"tables"`
}

// TableInfo identifies one code table.
type TableInfo struct {
	Name   string `json:"name"`
	File   string `json:"file"`
	SHA256 string `json:"sha256"`
}

// PlanInfo identifies the plan the benefit codes and member options were
// checked against.
type PlanInfo struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
}

// SettingInfo is one --set override.
type SettingInfo struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// SourceStats accounts for every row of one source file in one use (a
// block that maps it, or a lookup a join reads): rows_read = mapped + the
// filtered counts + exceptions.
type SourceStats struct {
	Source     string        `json:"source"`
	File       string        `json:"file"`
	SHA256     string        `json:"sha256"`
	Use        string        `json:"use"` // e.g. "claims[0]", or "lookup by Id"
	RowsRead   int64         `json:"rows_read"`
	Mapped     int64         `json:"mapped"`
	Filtered   []FilterCount `json:"filtered"`
	Exceptions int64         `json:"exceptions"`
	// Lines is the number of claim lines the mapped rows made (more than
	// the rows when slots are unpivoted); absent for other uses.
	Lines int64 `json:"lines,omitempty"`
}

// FilterCount is how many rows one filter left out.
type FilterCount struct {
	Filter string `json:"filter"`
	Rows   int64  `json:"rows"`
}

// OutputInfo is one published file.
type OutputInfo struct {
	Name   string `json:"name"`
	Rows   int64  `json:"rows"`
	SHA256 string `json:"sha256"`
}

func (s *SourceStats) filtered(name string) {
	for i := range s.Filtered {
		if s.Filtered[i].Filter == name {
			s.Filtered[i].Rows++
			return
		}
	}
	s.Filtered = append(s.Filtered, FilterCount{Filter: name, Rows: 1})
}

func (s *SourceStats) check() error {
	sum := s.Mapped + s.Exceptions
	for _, f := range s.Filtered {
		sum += f.Rows
	}
	if sum != s.RowsRead {
		return fmt.Errorf("%w: %s (%s): rows read %d, but mapped %d + filtered + exceptions %d = %d",
			ErrConservation, s.File, s.Use, s.RowsRead, s.Mapped, s.Exceptions, sum)
	}
	return nil
}

// writeManifest writes m as indented JSON.
func writeManifest(w io.Writer, m *Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// ReadManifest reads an import's manifest.json.
func ReadManifest(r io.Reader) (*Manifest, error) {
	var m Manifest
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("importer: manifest: %w", err)
	}
	return &m, nil
}
