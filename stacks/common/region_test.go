package common_test

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/marketanalytics/pipeline/shared/naming"
	"github.com/marketanalytics/pipeline/stacks/common"
	"github.com/marketanalytics/pipeline/stacks/common/stacktest"
)

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
			err := pulumi.RunErr(common.RequireRegion, pulumi.WithMocks("p", "dev", stacktest.RegionMonitor{Region: tt.region}))
			switch {
			case !tt.wantErr && err != nil:
				t.Errorf("RequireRegion in %s: %v", tt.region, err)
			case tt.wantErr && (err == nil || !strings.Contains(err.Error(), tt.region) || !strings.Contains(err.Error(), naming.Region)):
				t.Errorf("RequireRegion in %s: err = %v, want an error naming %s and %s", tt.region, err, tt.region, naming.Region)
			}
		})
	}
}
