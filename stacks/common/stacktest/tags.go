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
// cannot speak for (a Cloud Control resource, tagged in its desired state;
// Pulumi's StackReference). A resource of a type outside types fails, so a
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
// in nonTaggable carries exactly Tags, and that the others carry no tags. A
// Cloud Control resource takes no tags input: its tags are the Tags
// ([{Key, Value}]) of its desired state. It returns how many resources carry
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
		if r.Type == TypeCloudControl {
			if hasTags {
				t.Errorf("%s %s has a tags input %v; Cloud Control takes tags in desiredState", r.Type, r.Name, tags)
			}
			tags, hasTags = cloudControlTags(t, r)
		}
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

// cloudControlTags reads the Tags ([{Key, Value}]) of a Cloud Control
// resource's desired state as a map; a duplicate or malformed tag fails.
func cloudControlTags(t testing.TB, r synthrec.Resource) (interface{}, bool) {
	t.Helper()
	state, ok := JSONInput(t, r, "desiredState").(map[string]interface{})
	if !ok {
		t.Errorf("%s %s: desiredState is not a JSON object", r.Type, r.Name)
		return nil, false
	}
	list, ok := state["Tags"]
	if !ok {
		return nil, false
	}
	items, ok := list.([]interface{})
	if !ok {
		t.Errorf("%s %s: Tags is %T, want a list of {Key, Value}", r.Type, r.Name, list)
		return list, true
	}
	tags := map[string]interface{}{}
	for _, item := range items {
		kv, _ := item.(map[string]interface{})
		k, kok := kv["Key"].(string)
		v, vok := kv["Value"].(string)
		if !kok || !vok || len(kv) != 2 {
			t.Errorf("%s %s: tag %v is not {Key, Value}", r.Type, r.Name, item)
			continue
		}
		if _, dup := tags[k]; dup {
			t.Errorf("%s %s: tag %s appears twice", r.Type, r.Name, k)
		}
		tags[k] = v
	}
	return tags, true
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
