package stacktest

import (
	"reflect"
	"sort"
	"testing"

	"github.com/marketanalytics/pipeline/stacks/common/synthrec"
)

// Tags are the two tags every taggable resource must carry, written out here
// rather than taken from naming.Tags so that a change there shows up.
var Tags = map[string]string{"Environment": "Production", "Project": "MarketAnalytics"}

// AssertClassified checks a layer's list of non-taggable types against the
// AWS SDK and against what the program registered. types maps every resource
// type of the layer to its provider's Args struct (lambda.FunctionArgs{}),
// whose Tags field says whether AWS tags the type; nil marks a type the SDK
// cannot speak for (Pulumi's StackReference). A resource of a type outside types fails, so a
// new type makes the test's author decide whether AWS tags it.
func AssertClassified(t testing.TB, res *synthrec.Result, types map[string]interface{}, nonTaggable ...string) {
	t.Helper()
	non := set(nonTaggable)
	for _, typ := range nonTaggable {
		if _, ok := types[typ]; !ok {
			t.Errorf("%s is listed as not taggable but is not one of the layer's types", typ)
		}
	}
	for _, typ := range sortedKeys(types) {
		if types[typ] == nil {
			continue
		}
		_, hasTags := reflect.TypeOf(types[typ]).FieldByName("Tags")
		if hasTags == non[typ] {
			t.Errorf("%s: the SDK says taggable=%v but the test's list says non-taggable=%v", typ, hasTags, non[typ])
		}
	}
	for _, r := range res.Resources {
		if _, known := types[r.Type]; !known {
			t.Errorf("resource %s %s has a type this test does not classify", r.Type, r.Name)
		}
	}
}

// AssertTagged asserts that every resource of res whose type is not listed
// in nonTaggable carries exactly Tags, and that the others carry no tags. It
// returns how many resources carry
// the tags, for the caller to check against the layer's count.
func AssertTagged(t testing.TB, res *synthrec.Result, nonTaggable ...string) int {
	t.Helper()
	non := set(nonTaggable)
	want := map[string]interface{}{}
	for k, v := range Tags {
		want[k] = v
	}
	tagged := 0
	for _, r := range res.Resources {
		tags, hasTags := r.Inputs["tags"]
		switch {
		case non[r.Type] && hasTags:
			t.Errorf("%s %s is listed as not taggable but has tags %v", r.Type, r.Name, tags)
		case non[r.Type]:
		case !reflect.DeepEqual(tags, want):
			t.Errorf("%s %s tags = %v, want %v", r.Type, r.Name, tags, want)
		default:
			tagged++
		}
	}
	return tagged
}

func set(list []string) map[string]bool {
	m := map[string]bool{}
	for _, s := range list {
		m[s] = true
	}
	return m
}

func sortedKeys(m map[string]interface{}) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
