// Command claimsbatch-beam runs claimsbatch's adjudication as an Apache Beam
// pipeline (work in progress: issue 15).
package main

import "github.com/apache/beam/sdks/v2/go/pkg/beam"

func main() { beam.Init() }
