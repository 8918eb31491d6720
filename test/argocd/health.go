/*
Copyright 2026 The tenant-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

// Package argocd runs the Tenant health check shipped in config/argocd the way Argo CD runs it: gopher-lua (the
// engine Argo CD embeds) with the base, package and table libraries, the object as the global `obj`, and a table
// {status, message} as the result.
package argocd

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// ScriptPath is the health check's path in the repository, in Argo CD's resource_customizations layout.
const ScriptPath = "config/argocd/tenancy.tenant-operator.dev/Tenant/health.lua"

// Status is what a health check returns.
type Status struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

// LoadScript reads the health check from a repository checkout.
func LoadScript(repoRoot string) (string, error) {
	b, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(ScriptPath)))
	return string(b), err
}

// Health runs script against obj, an object as decoded from JSON (map[string]any), as Argo CD would.
func Health(script string, obj map[string]any) (Status, error) {
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	for name, open := range map[string]lua.LGFunction{lua.LoadLibName: lua.OpenPackage, lua.BaseLibName: lua.OpenBase, lua.TabLibName: lua.OpenTable} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(open), Protect: true}, lua.LString(name)); err != nil {
			return Status{}, err
		}
	}
	// Argo CD gives a health check one second.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	l.SetContext(ctx)
	l.SetGlobal("obj", toLua(l, obj))
	if err := l.DoString(script); err != nil {
		return Status{}, err
	}
	table, ok := l.Get(-1).(*lua.LTable)
	if !ok {
		return Status{}, fmt.Errorf("the health check returned %s, not a table", l.Get(-1).Type())
	}
	s := Status{Status: lua.LVAsString(table.RawGetString("status")), Message: lua.LVAsString(table.RawGetString("message"))}
	switch s.Status {
	case "Healthy", "Progressing", "Degraded", "Suspended", "Missing", "Unknown":
		return s, nil
	}
	return s, fmt.Errorf("the health check returned the invalid status %q", s.Status)
}

// toLua converts a decoded JSON value as Argo CD does: objects and arrays become tables, numbers LNumber, null nil.
func toLua(l *lua.LState, v any) lua.LValue {
	switch v := v.(type) {
	case bool:
		return lua.LBool(v)
	case string:
		return lua.LString(v)
	case float64:
		return lua.LNumber(v)
	case int64:
		return lua.LNumber(v)
	case int:
		return lua.LNumber(v)
	case []any:
		t := l.CreateTable(len(v), 0)
		for _, item := range v {
			t.Append(toLua(l, item))
		}
		return t
	case map[string]any:
		t := l.CreateTable(0, len(v))
		for k, item := range v {
			t.RawSetH(lua.LString(k), toLua(l, item))
		}
		return t
	}
	return lua.LNil
}
