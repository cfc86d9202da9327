// Command pbx-prompts builds the system prompts of the softswitch from the
// list kept in the repository (prompts/texts.tsv): Debian's Asterisk
// recordings (asterisk-core-sounds-en-wav, -fr-wav) where they exist,
// espeak-ng otherwise, all as 8 kHz mono WAV in <out>/<lang>/<id>.wav,
// where `pbx serve --prompts` finds them. interop/install-tools.sh runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"pbx/prompts"
)

func main() {
	out := flag.String("out", "/usr/local/share/pbx/prompts", "directory to build the prompts in")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	n, err := prompts.Build(ctx, *out, prompts.DebianSources())
	if err != nil {
		fmt.Fprintln(os.Stderr, "pbx-prompts:", err)
		os.Exit(1)
	}
	fmt.Printf("pbx-prompts: %d prompts in %s\n", n, *out)
}
