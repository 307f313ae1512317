package stacktest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/stacks/common"
	"github.com/marketanalytics/pipeline/stacks/common/synthrec"
)

// RegionMonitor is a mock monitor whose AWS provider targets Region, in
// account synthrec.Account. It answers every resource with its inputs.
type RegionMonitor struct{ Region string }

var _ pulumi.MockResourceMonitor = RegionMonitor{}

// NewResource answers with the inputs and the logical name as the id.
func (RegionMonitor) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	return args.Name + "-id", args.Inputs, nil
}

// Call answers the region and caller-identity lookups.
func (m RegionMonitor) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	switch args.Token {
	case "aws:index/getRegion:getRegion":
		return resource.NewPropertyMapFromMap(map[string]interface{}{"name": m.Region, "id": m.Region}), nil
	case "aws:index/getCallerIdentity:getCallerIdentity":
		return resource.NewPropertyMapFromMap(map[string]interface{}{"accountId": synthrec.Account}), nil
	}
	return nil, fmt.Errorf("unexpected invoke %s", args.Token)
}

// OtherRegion is the region AssertRegionGuard deploys to.
const OtherRegion = "eu-west-1"

// AssertRegionGuard runs program for project with its provider in another
// region than naming.Region and asserts that it fails naming both regions.
func AssertRegionGuard(t testing.TB, program common.Program, project string) {
	t.Helper()
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		_, err := program(ctx)
		return err
	}, pulumi.WithMocks(project, "dev", RegionMonitor{OtherRegion}))
	if err == nil || !strings.Contains(err.Error(), OtherRegion) || !strings.Contains(err.Error(), naming.Region) {
		t.Errorf("err = %v, want an error naming %s and %s", err, OtherRegion, naming.Region)
	}
}
