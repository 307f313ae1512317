package naming

import (
	"fmt"
	"path/filepath"

	"github.com/marketanalytics/pipeline/shared/arns"
)

// Services are the Lambda services, by directory name under services/ and
// under the build directory.
var Services = []string{"ingestion", "processor", "aggregator"}

// ArtifactZip is where `mage build` writes a service's deployment package
// (a zip holding the single executable "bootstrap"), relative to the build
// directory. The compute stack deploys this file.
func ArtifactZip(buildDir, service string) string {
	return filepath.Join(buildDir, service, "bootstrap.zip")
}

// FunctionFor returns the function name of a service.
func (n Names) FunctionFor(service string) (string, error) {
	switch service {
	case "ingestion":
		return n.Ingestion(), nil
	case "processor":
		return n.Processor(), nil
	case "aggregator":
		return n.Aggregator(), nil
	}
	return "", fmt.Errorf("unknown service %q", service)
}

// ScheduleRuleARN is the ARN of the schedule rule (default bus) in account.
// The messaging stack needs it before the compute stack creates the rule: the
// dead-letter queue's policy admits exactly the rules' ARNs.
func (n Names) ScheduleRuleARN(account string) string {
	return arns.Rule(Region, account, "", n.ScheduleRule())
}

// EventsRuleARN is the ARN of the rule on the custom bus in account.
func (n Names) EventsRuleARN(account string) string {
	return arns.Rule(Region, account, n.EventBus(), n.EventsRule())
}

// LocalBinary is where `mage build` writes a service's executable built for
// this machine, which the local pipeline runs under the Lambda Runtime
// Interface Emulator. Relative to the build directory.
func LocalBinary(buildDir, service string) string {
	return filepath.Join(buildDir, "local", service, "bootstrap")
}
