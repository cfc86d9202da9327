package callflow

import (
	"bytes"
	"io"
	"slices"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
