//go:build ignore

// mage.go runs the magefile without installing mage: `go run mage.go <target>`.
// Arguments after the `local` target are handed to the local pipeline
// (e.g. `go run mage.go local --points 1000000`) through MAGE_LOCAL_ARGS (a JSON array).
package main

import (
	"encoding/json"
	"os"

	"github.com/magefile/mage/mage"
)

func main() {
	for i, a := range os.Args[1:] {
		if a == "local" && i+2 < len(os.Args) {
			b, _ := json.Marshal(os.Args[i+2:])
			os.Setenv("MAGE_LOCAL_ARGS", string(b))
			os.Args = os.Args[:i+2]
			break
		}
	}
	os.Exit(mage.Main())
}
