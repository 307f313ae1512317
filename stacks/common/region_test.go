package common_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/stacks/common"
)

// regionMonitor is a mock monitor whose provider targets region.
type regionMonitor struct{ region string }

func (m regionMonitor) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	return args.Name + "-id", args.Inputs, nil
}

func (m regionMonitor) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	if args.Token == "aws:index/getRegion:getRegion" {
		return resource.NewPropertyMapFromMap(map[string]interface{}{"name": m.region, "id": m.region}), nil
	}
	return nil, fmt.Errorf("unexpected invoke %s", args.Token)
}

func TestRequireRegion(t *testing.T) {
	tests := []struct {
		region  string
		wantErr bool
	}{
		{naming.Region, false},
		{"eu-west-1", true},
		{"us-east-2", true},
	}
	for _, tt := range tests {
		t.Run(tt.region, func(t *testing.T) {
			err := pulumi.RunErr(common.RequireRegion, pulumi.WithMocks("p", "dev", regionMonitor{tt.region}))
			switch {
			case !tt.wantErr && err != nil:
				t.Errorf("RequireRegion in %s: %v", tt.region, err)
			case tt.wantErr && (err == nil || !strings.Contains(err.Error(), tt.region) || !strings.Contains(err.Error(), naming.Region)):
				t.Errorf("RequireRegion in %s: err = %v, want an error naming %s and %s", tt.region, err, tt.region, naming.Region)
			}
		})
	}
}
