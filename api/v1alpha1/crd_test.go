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

package v1alpha1

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"
)

// TestEveryFieldIsDocumented keeps `kubectl explain tenant.spec` useful: every field of the generated CRD has a
// description (from the doc comments), and kubectl get shows the printer columns.
func TestEveryFieldIsDocumented(t *testing.T) {
	for _, c := range []struct {
		file    string
		columns []string
	}{
		{"tenancy.tenant-operator.dev_tenants.yaml", []string{"Namespace", "Phase", "Ready", "Backend", "Class", "Reason", "Message", "Age"}},
		{"tenancy.tenant-operator.dev_tenantclasses.yaml", []string{"Default", "Tenants", "Updated", "Rolled-Out", "Age"}},
	} {
		t.Run(c.file, func(t *testing.T) { checkDocumented(t, c.file, c.columns) })
	}
}

func checkDocumented(t *testing.T, file string, wantColumns []string) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "config", "crd", "bases", file))
	if err != nil {
		t.Fatal(err)
	}
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := yaml.Unmarshal(raw, crd); err != nil {
		t.Fatal(err)
	}
	var walk func(path string, s apiextensionsv1.JSONSchemaProps)
	fields := 0
	walk = func(path string, s apiextensionsv1.JSONSchemaProps) {
		for name, p := range s.Properties {
			fields++
			if p.Description == "" && name != "apiVersion" && name != "kind" && name != "metadata" {
				t.Errorf("%s.%s has no description", path, name)
			}
			walk(path+"."+name, p)
		}
		if s.Items != nil && s.Items.Schema != nil {
			walk(path+"[]", *s.Items.Schema)
		}
		if s.AdditionalProperties != nil && s.AdditionalProperties.Schema != nil {
			walk(path+"{}", *s.AdditionalProperties.Schema)
		}
	}
	version := crd.Spec.Versions[0]
	walk(crd.Spec.Names.Singular, *version.Schema.OpenAPIV3Schema)
	if fields < 30 {
		t.Errorf("walked only %d fields", fields)
	}
	columns := make([]string, 0, len(version.AdditionalPrinterColumns))
	for _, c := range version.AdditionalPrinterColumns {
		columns = append(columns, c.Name)
	}
	if !slices.Equal(columns, wantColumns) {
		t.Errorf("printer columns = %v, want %v", columns, wantColumns)
	}
}
