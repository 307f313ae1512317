//go:build ignore

// mage.go runs the magefile without installing mage: `go run mage.go <target>`.
// Arguments after the `local` or `smoke` target are handed to it (e.g.
// `go run mage.go local --points 1000000`, `go run mage.go smoke --local`)
// through MAGE_LOCAL_ARGS or MAGE_SMOKE_ARGS (a JSON array); likewise after the
// operations targets dlq:list, dlq:show, dlq:redrive, replay and status
// through MAGE_OPS_ARGS; after chart and cost through MAGE_CHART_ARGS and
// MAGE_COST_ARGS (`go run mage.go chart AAPL --interval 1h`).
package main

import (
	"encoding/json"
	"os"

	"github.com/magefile/mage/mage"
)

func main() {
	argsEnv := map[string]string{"local": "MAGE_LOCAL_ARGS", "smoke": "MAGE_SMOKE_ARGS",
		// the operations targets (magefile.go, tools/cmd/ops)
		"dlq:list": "MAGE_OPS_ARGS", "dlq:show": "MAGE_OPS_ARGS", "dlq:redrive": "MAGE_OPS_ARGS",
		"replay": "MAGE_OPS_ARGS", "status": "MAGE_OPS_ARGS",
		"chart": "MAGE_CHART_ARGS", "cost": "MAGE_COST_ARGS"}
	for i, a := range os.Args[1:] {
		if env, ok := argsEnv[a]; ok && i+2 < len(os.Args) {
			b, _ := json.Marshal(os.Args[i+2:])
			os.Setenv(env, string(b))
			os.Args = os.Args[:i+2]
			break
		}
	}
	os.Exit(mage.Main())
}
