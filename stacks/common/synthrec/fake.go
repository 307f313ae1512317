package synthrec

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"

	"github.com/marketanalytics/pipeline/shared/arns"
	"github.com/marketanalytics/pipeline/shared/naming"
)

// region is where the fake resources live: the one region the stacks deploy to.
const region = naming.Region

// shortID is a deterministic id in the style of API Gateway ids (10 lower-case
// alphanumerics), derived from the resource URN.
func shortID(urn string, n int) string {
	sum := sha256.Sum256([]byte(urn))
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteByte(alphabet[int(sum[i])%len(alphabet)])
	}
	return b.String()
}

// uuid is a deterministic UUID-shaped id derived from the URN.
func uuid(urn string) string {
	h := hex.EncodeToString(func() []byte { s := sha256.Sum256([]byte(urn)); return s[:16] }())
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func str(m map[string]interface{}, k string) string {
	s, _ := m[k].(string)
	return s
}

// Fakes is the one implementation of what AWS would answer, shared by the
// mock monitor (Run) and the stand-in AWS provider the real Pulumi engine
// talks to in `check:engine` (tools/fakeaws), so a program sees the same ids,
// ARNs and computed outputs under both. It is deterministic: ids derive from
// inputs and URNs only. Its one piece of state is the API Gateway resource
// paths, learnt from the RestApi and Resource creations it answered.
type Fakes struct {
	mu       sync.Mutex
	apiPaths map[string]string // API Gateway resource id → path
}

// NewFakes returns a Fakes with no API Gateway resources known.
func NewFakes() *Fakes { return &Fakes{apiPaths: map[string]string{}} }

// Invoke answers the provider functions (invokes) the programs call, as AWS
// would for account Account in region.
func Invoke(token, region string) (map[string]interface{}, error) {
	switch token {
	case "aws:index/getCallerIdentity:getCallerIdentity":
		return map[string]interface{}{
			"accountId": Account,
			"arn":       arns.User(Account, "synth"),
			"userId":    "AIDASYNTHUSER",
			"id":        Account,
		}, nil
	case "aws:index/getRegion:getRegion":
		return map[string]interface{}{"name": region, "id": region, "region": region}, nil
	case "aws:index/getPartition:getPartition":
		return map[string]interface{}{"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}, nil
	}
	return nil, fmt.Errorf("fakes: no answer for invoke %s", token)
}

// Resource returns the id and outputs AWS would report for a new resource of
// type typ, logical name name and URN urn: its inputs plus the computed
// attributes the programs read.
func (m *Fakes) Resource(typ, name, urn string, in map[string]interface{}) (string, map[string]interface{}, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]interface{}{}
	for k, v := range in {
		out[k] = v
	}
	if tags, ok := in["tags"]; ok {
		out["tagsAll"] = tags
	}
	acct := Account
	id := name
	switch typ {
	case "aws:s3/bucketV2:BucketV2":
		b := str(in, "bucket")
		id = b
		out["arn"] = arns.Bucket(b)
		out["bucketDomainName"] = b + ".s3.amazonaws.com"
		out["bucketRegionalDomainName"] = b + ".s3." + region + ".amazonaws.com"
		out["region"] = region
		out["hostedZoneId"] = "Z3AQBSTGFYJSTF"
	case "aws:dynamodb/table:Table":
		id = str(in, "name")
		out["arn"] = arns.Table(region, acct, id)
	case "aws:sqs/queue:Queue":
		q := str(in, "name")
		id = fmt.Sprintf("https://sqs.%s.amazonaws.com/%s/%s", region, acct, q)
		out["url"] = id
		out["arn"] = arns.Queue(region, acct, q)
	case "aws:cloudwatch/eventBus:EventBus":
		id = str(in, "name")
		out["arn"] = arns.EventBus(region, acct, id)
	case "aws:cloudwatch/eventRule:EventRule":
		r := str(in, "name")
		bus := str(in, "eventBusName")
		id, out["arn"] = r, arns.Rule(region, acct, bus, r)
		if bus != "" && bus != "default" {
			id = bus + "/" + r
		}
	case "aws:iam/role:Role":
		id = str(in, "name")
		out["arn"] = arns.Role(acct, id)
		out["uniqueId"] = "AROA" + strings.ToUpper(shortID(urn, 17))
	case "aws:iam/rolePolicy:RolePolicy":
		id = str(in, "role") + ":" + str(in, "name")
	case "aws:cloudwatch/logGroup:LogGroup":
		id = str(in, "name")
		out["arn"] = arns.LogGroup(region, acct, id)
	case "aws:lambda/function:Function":
		id = str(in, "name")
		arn := arns.Function(region, acct, id)
		out["arn"] = arn
		out["qualifiedArn"] = arn + ":$LATEST"
		out["version"] = "$LATEST"
		out["invokeArn"] = arns.FunctionInvoke(region, arn)
		out["qualifiedInvokeArn"] = arns.FunctionInvoke(region, arn+":$LATEST")
	case "aws:lambda/eventSourceMapping:EventSourceMapping":
		id = uuid(urn)
		out["uuid"] = id
		out["arn"] = arns.EventSourceMapping(region, acct, id)
		out["functionArn"] = str(in, "functionName")
	case "aws:apigateway/restApi:RestApi":
		id = shortID(urn, 10)
		out["rootResourceId"] = shortID(urn+"/", 10)
		m.apiPaths[out["rootResourceId"].(string)] = "/"
		out["arn"] = arns.RestAPI(region, id)
		out["executionArn"] = arns.Execute(region, acct, id, "")
	case "aws:apigateway/resource:Resource":
		id = shortID(urn, 6)
		parentPath := m.apiPaths[str(in, "parentId")]
		p := strings.TrimSuffix(parentPath, "/") + "/" + str(in, "pathPart")
		m.apiPaths[id] = p
		out["path"] = p
	case "aws:apigateway/deployment:Deployment":
		id = shortID(urn, 6)
		out["createdDate"] = "2026-01-01T00:00:00Z"
	case "aws:apigateway/stage:Stage":
		api, stage := str(in, "restApi"), str(in, "stageName")
		id = "ags-" + api + "-" + stage
		out["invokeUrl"] = fmt.Sprintf("https://%s.execute-api.%s.amazonaws.com/%s", api, region, stage)
		out["executionArn"] = arns.Execute(region, acct, api, "/"+stage)
		out["arn"] = arns.Stage(region, api, stage)
	case "aws:apigateway/requestValidator:RequestValidator", "aws:apigateway/model:Model",
		"aws:apigateway/method:Method", "aws:apigateway/integration:Integration",
		"aws:apigateway/methodSettings:MethodSettings", "aws:apigateway/methodResponse:MethodResponse",
		"aws:apigateway/integrationResponse:IntegrationResponse":
		id = shortID(urn, 6)
	case "aws:lambda/permission:Permission":
		id = str(in, "statementId")
		if id == "" {
			id = name
		}
	case "aws:sns/topic:Topic":
		id = arns.Topic(region, acct, str(in, "name"))
		out["arn"] = id
	case "aws:sns/topicSubscription:TopicSubscription":
		id = str(in, "topic") + ":" + uuid(urn)
		out["arn"] = id
	case "aws:cloudwatch/metricAlarm:MetricAlarm":
		id = str(in, "name")
		out["arn"] = arns.Alarm(region, acct, id)
	case "aws:cloudwatch/dashboard:Dashboard":
		id = str(in, "dashboardName")
		out["dashboardArn"] = arns.Dashboard(acct, id)
	case "aws:cloudwatch/eventTarget:EventTarget":
		id = str(in, "rule") + "-" + str(in, "targetId")
	default:
		id = name + "-" + shortID(urn, 8)
	}
	return id, out, nil
}
