package writers

import (
	"fmt"
	"path/filepath"
)

// StagedPath returns where the file created as name is being written: its
// path in the stage, until Commit moves it into the output directory. A
// run reads its own outputs back from there before it publishes them (the
// report reads the remittance and exceptions, the 835s are made from the
// remittance and tied out to the payments). name must have been created;
// after Commit or Abort the path is gone and StagedPath fails.
func (p *Publisher) StagedPath(name string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return "", fmt.Errorf("writers: staged path of %s: %w", name, ErrClosed)
	}
	for _, f := range p.files {
		if f.name == name {
			return filepath.Join(p.stage, filepath.FromSlash(name)), nil
		}
	}
	return "", fmt.Errorf("writers: staged path of %s: not created", name)
}
