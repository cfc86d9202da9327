//go:build race

package main

// raceEnabled: the race detector shadows the heap (the Go documentation
// counts on 5 to 10 times the memory), so bounds on resident memory scale.
const raceEnabled = true
