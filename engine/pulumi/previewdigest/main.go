// Command previewdigest prints the JSON document `pulumi preview --json` prints (steps,
// diagnostics, changeSummary), made by the CLI's own code from an engine event log that a
// preview wrote with `--event-log FILE`: each line is turned back into the engine's event
// by display.ConvertJSONEvent and the stream is rendered by display.ShowPreviewDigest with
// the options `pulumi preview --json` uses by default. So one real preview can show its
// progress display and still leave the document a workflow reads.
//
// A logged step carries its resource's state as metadata only (no dependencies, property
// dependencies or timestamps: the log never had them), so the steps' oldState/newState are
// rebuilt from that metadata; every other part of the document is the CLI's own.
//
//	previewdigest EVENTS.jsonl > preview.json
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"github.com/pulumi/pulumi/pkg/v3/backend/display"
	"github.com/pulumi/pulumi/pkg/v3/engine"
	"github.com/pulumi/pulumi/pkg/v3/resource"
	"github.com/pulumi/pulumi/pkg/v3/resource/deploy"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/providers"
	sdkresource "github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// unblinded reads one logged event. The log writes each secret blinded, as a ciphertext
// "[secret]" that no decrypter reads back (ConvertJSONEvent would drop the whole property map
// holding it); it becomes a secret whose value is "[secret]", which is what the digest prints.
func unblinded(raw []byte) (apitype.EngineEvent, error) {
	var event apitype.EngineEvent
	var tree any
	decoder := json.NewDecoder(bytes.NewReader(raw))
	decoder.UseNumber()
	if err := decoder.Decode(&tree); err != nil {
		return event, err
	}
	fixed, err := json.Marshal(unblind(tree))
	if err != nil {
		return event, err
	}
	err = json.Unmarshal(fixed, &event)
	return event, err
}

func unblind(value any) any {
	switch v := value.(type) {
	case map[string]any:
		if v[sdkresource.SigKey] == sdkresource.SecretSig && v["ciphertext"] == "[secret]" {
			return map[string]any{sdkresource.SigKey: sdkresource.SecretSig, "plaintext": `"[secret]"`}
		}
		for key, element := range v {
			v[key] = unblind(element)
		}
	case []any:
		for i, element := range v {
			v[i] = unblind(element)
		}
	}
	return value
}

// internal: what the CLI's display drops before rendering (engine.isInternalStep: default
// providers' steps and two bookkeeping operations). The log keeps them without the flag.
func internal(logged apitype.EngineEvent) bool {
	var metadata *apitype.StepEventMetadata
	if logged.ResourcePreEvent != nil {
		metadata = &logged.ResourcePreEvent.Metadata
	} else if logged.ResOutputsEvent != nil {
		metadata = &logged.ResOutputsEvent.Metadata
	}
	if metadata == nil {
		return false
	}
	switch metadata.Op {
	case apitype.OpType(deploy.OpRemovePendingReplace), apitype.OpType(deploy.OpExtendParameterize):
		return true
	}
	return providers.IsDefaultProvider(sdkresource.URN(metadata.URN))
}

// withStates gives a converted step event the states the digest serializes.
func withStates(event engine.Event) engine.Event {
	switch payload := event.Payload().(type) {
	case engine.ResourcePreEventPayload:
		fill(&payload.Metadata)
		return engine.NewEvent(payload)
	case engine.ResourceOutputsEventPayload:
		fill(&payload.Metadata)
		return engine.NewEvent(payload)
	}
	return event
}

func fill(metadata *engine.StepEventMetadata) {
	for _, state := range []*engine.StepEventStateMetadata{metadata.Old, metadata.New, metadata.Res} {
		if state != nil && state.State == nil {
			state.State = &resource.State{
				Type: state.Type, URN: state.URN, Custom: state.Custom, Delete: state.Delete, ID: state.ID,
				Inputs: state.Inputs, Outputs: state.Outputs, Parent: state.Parent, Protect: state.Protect,
				Taint: state.Taint, External: state.External, InitErrors: state.InitErrors,
				Provider: state.Provider, RetainOnDelete: state.RetainOnDelete,
			}
		}
	}
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: previewdigest EVENTS.jsonl")
		os.Exit(2)
	}
	file, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer file.Close()

	events := make(chan engine.Event)
	done := make(chan bool)
	go display.ShowPreviewDigest(events, done, display.Options{JSONDisplay: true})

	lines := bufio.NewScanner(file)
	lines.Buffer(make([]byte, 0, 1<<20), 1<<30)
	line := 0
	for lines.Scan() {
		line++
		logged, err := unblinded(lines.Bytes())
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s:%d: not an engine event: %v\n", os.Args[1], line, err)
			os.Exit(1)
		}
		event, err := display.ConvertJSONEvent(logged)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s:%d: %v\n", os.Args[1], line, err)
			os.Exit(1)
		}
		if internal(logged) {
			continue
		}
		events <- withStates(event)
	}
	if err := lines.Err(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	close(events)
	<-done
}
