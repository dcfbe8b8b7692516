// Command venvcheck resolves the Python interpreter of a Pulumi project or policy pack the
// way the Python language host does: the project file is read by the SDK's own loader, and
// its runtime options go to the SDK's own toolchain package (python/toolchain), which
// resolves a relative `virtualenv` against the folder of the project file. The language
// host module is not served here (README, "The real engine"), so this is the part of its
// behaviour we can run: which virtualenv a `pulumi preview` would use, whether it is one,
// and whether the modules the program needs import in it.
//
//	venvcheck <Pulumi.yaml | PulumiPolicy.yaml> <module>...
//
// Exit 0: it prints the interpreter; 1: the file, its options or the virtualenv is wrong,
// or a module does not import; 2: usage.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: venvcheck <Pulumi.yaml | PulumiPolicy.yaml> <module>...")
		os.Exit(2)
	}
	if err := check(os.Args[1], os.Args[2:]); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

func check(path string, modules []string) error {
	runtime, err := loadRuntime(path)
	if err != nil {
		return err
	}
	if runtime.Name() != "python" {
		return fmt.Errorf("runtime is %q, not python", runtime.Name())
	}
	root, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return err
	}
	options, err := pythonOptions(root, runtime.Options())
	if err != nil {
		return err
	}
	tc, err := toolchain.ResolveToolchain(options)
	if err != nil {
		return err
	}
	ctx := context.Background()
	if err := tc.ValidateVenv(ctx); err != nil {
		return err
	}
	for _, module := range modules {
		cmd, err := tc.Command(ctx, "-c", "import "+module)
		if err != nil {
			return err
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("module %s does not import in the resolved interpreter: %v\n%s", module, err, out)
		}
	}
	about, err := tc.About(ctx)
	if err != nil {
		return err
	}
	fmt.Println(about.PythonExecutable)
	return nil
}

func loadRuntime(path string) (*workspace.ProjectRuntimeInfo, error) {
	if filepath.Base(path) == "PulumiPolicy.yaml" {
		pack, err := workspace.LoadPolicyPack(path)
		if err != nil {
			return nil, err
		}
		return &pack.Runtime, nil
	}
	project, err := workspace.LoadProject(path)
	if err != nil {
		return nil, err
	}
	return &project.Runtime, nil
}

// pythonOptions maps the runtime options a project file may set for Python onto the
// toolchain's options, as the language host does (programs and policy packs alike).
func pythonOptions(root string, options map[string]any) (toolchain.PythonOptions, error) {
	result := toolchain.PythonOptions{Root: root, ProgramDir: root}
	if value, ok := options["virtualenv"]; ok {
		virtualenv, ok := value.(string)
		if !ok {
			return result, fmt.Errorf("runtime option virtualenv must be a string")
		}
		result.Virtualenv = virtualenv
	}
	if value, ok := options["toolchain"]; ok {
		switch value {
		case "pip":
			result.Toolchain = toolchain.Pip
		case "poetry":
			result.Toolchain = toolchain.Poetry
		case "uv":
			result.Toolchain = toolchain.Uv
		default:
			return result, fmt.Errorf("unsupported runtime option toolchain: %v", value)
		}
	}
	return result, nil
}
