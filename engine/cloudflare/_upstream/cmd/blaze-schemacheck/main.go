// Command schemacheck runs the Cloudflare Terraform provider's own resource schemas and
// config validation for the resource types the fleet uses, with no client and no network.
//
// It is compiled as a package of the upstream module (delivery/engine.py overlays this
// file into the module's tree: its services live under internal/, which only the module
// itself may import), into a provider that serves just those resources through the
// plugin framework's own protocol-6 server, as Terraform or the Pulumi bridge would call it.
//
//	schemacheck schema     the resource schemas (tfprotov6) as JSON
//	schemacheck validate   JSON lines {"type", "config"} in; one line of diagnostics out each
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/cloudflare/terraform-provider-cloudflare/internal/services/d1_database"
	"github.com/cloudflare/terraform-provider-cloudflare/internal/services/notification_policy"
	"github.com/cloudflare/terraform-provider-cloudflare/internal/services/notification_policy_webhooks"
	"github.com/cloudflare/terraform-provider-cloudflare/internal/services/r2_bucket"
	"github.com/cloudflare/terraform-provider-cloudflare/internal/services/r2_bucket_cors"
	"github.com/cloudflare/terraform-provider-cloudflare/internal/services/r2_bucket_lifecycle"
	"github.com/cloudflare/terraform-provider-cloudflare/internal/services/workers_cron_trigger"
	"github.com/cloudflare/terraform-provider-cloudflare/internal/services/workers_custom_domain"
	"github.com/cloudflare/terraform-provider-cloudflare/internal/services/workers_kv_namespace"
	"github.com/cloudflare/terraform-provider-cloudflare/internal/services/workers_route"
	"github.com/cloudflare/terraform-provider-cloudflare/internal/services/workers_script"
)

type fleetResources struct{}

func (fleetResources) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "cloudflare"
}
func (fleetResources) Schema(context.Context, provider.SchemaRequest, *provider.SchemaResponse) {}
func (fleetResources) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {
}
func (fleetResources) DataSources(context.Context) []func() datasource.DataSource { return nil }
func (fleetResources) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		d1_database.NewResource,
		notification_policy.NewResource,
		notification_policy_webhooks.NewResource,
		r2_bucket.NewResource,
		r2_bucket_cors.NewResource,
		r2_bucket_lifecycle.NewResource,
		workers_cron_trigger.NewResource,
		workers_custom_domain.NewResource,
		workers_kv_namespace.NewResource,
		workers_route.NewResource,
		workers_script.NewResource,
	}
}

type request struct {
	Type   string          `json:"type"`
	Config json.RawMessage `json:"config"`
}

type diagnostic struct {
	Severity  string `json:"severity"`
	Summary   string `json:"summary"`
	Detail    string `json:"detail"`
	Attribute string `json:"attribute,omitempty"`
}

func main() {
	if len(os.Args) != 2 || (os.Args[1] != "schema" && os.Args[1] != "validate") {
		fmt.Fprintln(os.Stderr, "usage: schemacheck schema | validate")
		os.Exit(2)
	}
	ctx := context.Background()
	server := providerserver.NewProtocol6(fleetResources{})()
	schemas, err := server.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil || len(schemas.Diagnostics) > 0 {
		fmt.Fprintln(os.Stderr, "schemacheck: the provider's schemas:", err, schemas.Diagnostics)
		os.Exit(1)
	}
	out := json.NewEncoder(os.Stdout)
	if os.Args[1] == "schema" {
		if err := out.Encode(schemas.ResourceSchemas); err != nil {
			fmt.Fprintln(os.Stderr, "schemacheck:", err)
			os.Exit(1)
		}
		return
	}
	lines := bufio.NewScanner(os.Stdin)
	lines.Buffer(make([]byte, 1<<20), 64<<20)
	for lines.Scan() {
		if err := out.Encode(validate(ctx, server, schemas.ResourceSchemas, lines.Bytes())); err != nil {
			fmt.Fprintln(os.Stderr, "schemacheck:", err)
			os.Exit(1)
		}
	}
	if err := lines.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "schemacheck:", err)
		os.Exit(1)
	}
}

func validate(ctx context.Context, server tfprotov6.ProviderServer, schemas map[string]*tfprotov6.Schema, line []byte) []diagnostic {
	var req request
	if err := json.Unmarshal(line, &req); err != nil {
		return []diagnostic{{Severity: "ERROR", Summary: "unreadable request", Detail: err.Error()}}
	}
	schema, ok := schemas[req.Type]
	if !ok {
		return []diagnostic{{Severity: "ERROR", Summary: "unknown resource type", Detail: req.Type}}
	}
	typ := schema.ValueType()
	var raw any
	if err := json.Unmarshal(req.Config, &raw); err != nil {
		return []diagnostic{{Severity: "ERROR", Summary: "unreadable config", Detail: err.Error()}}
	}
	// A configuration names every attribute of its type; the ones not set are null.
	complete, err := json.Marshal(withNulls(raw, typ))
	if err != nil {
		return []diagnostic{{Severity: "ERROR", Summary: "unreadable config", Detail: err.Error()}}
	}
	value, err := tftypes.ValueFromJSONWithOpts(complete, typ, tftypes.ValueFromJSONOpts{IgnoreUndefinedAttributes: false})
	if err != nil {
		return []diagnostic{{Severity: "ERROR", Summary: "config does not fit the schema", Detail: err.Error()}}
	}
	config, err := tfprotov6.NewDynamicValue(typ, value)
	if err != nil {
		return []diagnostic{{Severity: "ERROR", Summary: "config does not fit the schema", Detail: err.Error()}}
	}
	resp, err := server.ValidateResourceConfig(ctx, &tfprotov6.ValidateResourceConfigRequest{TypeName: req.Type, Config: &config})
	if err != nil {
		return []diagnostic{{Severity: "ERROR", Summary: "validation failed", Detail: err.Error()}}
	}
	found := []diagnostic{}
	for _, d := range resp.Diagnostics {
		entry := diagnostic{Severity: d.Severity.String(), Summary: d.Summary, Detail: d.Detail}
		if d.Attribute != nil {
			entry.Attribute = d.Attribute.String()
		}
		found = append(found, entry)
	}
	return found
}

func withNulls(value any, typ tftypes.Type) any {
	switch t := typ.(type) {
	case tftypes.Object:
		fields, ok := value.(map[string]any)
		if !ok {
			return value
		}
		for name, attr := range t.AttributeTypes {
			fields[name] = withNulls(fields[name], attr)
		}
		return fields
	case tftypes.List:
		return eachWithNulls(value, t.ElementType)
	case tftypes.Set:
		return eachWithNulls(value, t.ElementType)
	case tftypes.Map:
		entries, ok := value.(map[string]any)
		if !ok {
			return value
		}
		for key, entry := range entries {
			entries[key] = withNulls(entry, t.ElementType)
		}
		return entries
	}
	return value
}

func eachWithNulls(value any, element tftypes.Type) any {
	items, ok := value.([]any)
	if !ok {
		return value
	}
	for i, item := range items {
		items[i] = withNulls(item, element)
	}
	return items
}
