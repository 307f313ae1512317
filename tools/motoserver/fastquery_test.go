package motoserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"reflect"
	"testing"
)

// ddb calls a DynamoDB JSON operation on a moto server.
func ddb(t *testing.T, endpoint, op string, in any) map[string]any {
	t.Helper()
	b, _ := json.Marshal(in)
	req, _ := http.NewRequest(http.MethodPost, endpoint+"/", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+op)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out map[string]any
	json.Unmarshal(body, &out)
	if resp.StatusCode != 200 {
		return map[string]any{"error": string(body)}
	}
	return out
}

// TestFastQueryAnswersLikeMoto runs the same writes and queries on a plain
// moto server and on one with the fastquery shim, and wants the same answers.
func TestFastQueryAnswersLikeMoto(t *testing.T) {
	t.Setenv(EndpointEnv, "")
	plain, err := Start(Options{RepoDir: repoDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Stop()
	fast, err := Start(Options{RepoDir: repoDir(), FastQuery: true})
	if err != nil {
		t.Fatal(err)
	}
	defer fast.Stop()
	servers := []string{plain.Endpoint(), fast.Endpoint()}
	for _, ep := range servers {
		ddb(t, ep, "CreateTable", map[string]any{
			"TableName": "T", "BillingMode": "PAY_PER_REQUEST",
			"KeySchema":            []any{map[string]any{"AttributeName": "h", "KeyType": "HASH"}, map[string]any{"AttributeName": "r", "KeyType": "RANGE"}},
			"AttributeDefinitions": []any{map[string]any{"AttributeName": "h", "AttributeType": "S"}, map[string]any{"AttributeName": "r", "AttributeType": "N"}},
		})
	}
	rng := rand.New(rand.NewPCG(1, 2))
	key := func() string { return fmt.Sprintf("%d.%d", 1000+rng.IntN(200), rng.IntN(1000)) }
	write := func(op string, in any) {
		for _, ep := range servers {
			ddb(t, ep, op, in)
		}
	}
	query := func(in map[string]any) {
		t.Helper()
		in["TableName"] = "T"
		a, b := ddb(t, servers[0], "Query", in), ddb(t, servers[1], "Query", in)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("query %v:\nmoto:      %v\nfastquery: %v", in, a, b)
		}
	}
	queries := []map[string]any{
		{"KeyConditionExpression": "h = :h", "ExpressionAttributeValues": map[string]any{":h": map[string]any{"S": "A"}}},
		{"KeyConditionExpression": "h = :h AND r BETWEEN :a AND :b", "ExpressionAttributeValues": map[string]any{":h": map[string]any{"S": "A"}, ":a": map[string]any{"N": "1050"}, ":b": map[string]any{"N": "1100.5"}}},
		{"KeyConditionExpression": "h = :h AND r >= :a", "ExpressionAttributeValues": map[string]any{":h": map[string]any{"S": "B"}, ":a": map[string]any{"N": "1150"}}, "ScanIndexForward": false},
		{"KeyConditionExpression": "h = :h AND r < :a", "ExpressionAttributeValues": map[string]any{":h": map[string]any{"S": "A"}, ":a": map[string]any{"N": "1020.3"}}, "Select": "COUNT"},
		{"KeyConditionExpression": "h = :h AND r = :a", "ExpressionAttributeValues": map[string]any{":h": map[string]any{"S": "A"}, ":a": map[string]any{"N": "1100"}}},
		{"KeyConditionExpression": "h = :h AND r BETWEEN :a AND :b", "ExpressionAttributeValues": map[string]any{":h": map[string]any{"S": "B"}, ":a": map[string]any{"N": "1000"}, ":b": map[string]any{"N": "1199.999"}}, "Limit": 7},
		{"KeyConditionExpression": "h = :h AND r > :a", "FilterExpression": "v > :v", "ExpressionAttributeValues": map[string]any{":h": map[string]any{"S": "A"}, ":a": map[string]any{"N": "1010"}, ":v": map[string]any{"N": "50"}}},
		{"KeyConditionExpression": "h = :h", "ExpressionAttributeValues": map[string]any{":h": map[string]any{"S": "NONE"}}},
	}
	for round := 0; round < 6; round++ {
		for i := 0; i < 150; i++ {
			h := []string{"A", "B", "C"}[rng.IntN(3)]
			item := map[string]any{"h": map[string]any{"S": h}, "r": map[string]any{"N": key()}, "v": map[string]any{"N": fmt.Sprint(rng.IntN(100))}}
			switch rng.IntN(10) {
			case 0:
				write("DeleteItem", map[string]any{"TableName": "T", "Key": map[string]any{"h": item["h"], "r": item["r"]}})
			case 1:
				write("UpdateItem", map[string]any{"TableName": "T", "Key": map[string]any{"h": item["h"], "r": item["r"]},
					"UpdateExpression": "ADD n :one", "ExpressionAttributeValues": map[string]any{":one": map[string]any{"N": "1"}}})
			default:
				write("PutItem", map[string]any{"TableName": "T", "Item": item})
			}
		}
		for _, q := range queries {
			query(q)
		}
		// Page through a range, as the aggregator does.
		var start any
		for page := 0; page < 50; page++ {
			q := map[string]any{"KeyConditionExpression": "h = :h AND r BETWEEN :a AND :b", "Limit": 5,
				"ExpressionAttributeValues": map[string]any{":h": map[string]any{"S": "C"}, ":a": map[string]any{"N": "1030"}, ":b": map[string]any{"N": "1170"}}}
			if start != nil {
				q["ExclusiveStartKey"] = start
			}
			q["TableName"] = "T"
			a, b := ddb(t, servers[0], "Query", q), ddb(t, servers[1], "Query", q)
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("page %d:\nmoto:      %v\nfastquery: %v", page, a, b)
			}
			start = a["LastEvaluatedKey"]
			if start == nil {
				break
			}
		}
	}
}
