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

// Package ssatest holds the oracle of package ssa's owned-fields hash, for tests: client-go's Extract functions.
package ssatest

import (
	"encoding/json"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	networkingv1ac "k8s.io/client-go/applyconfigurations/networking/v1"
	policyv1ac "k8s.io/client-go/applyconfigurations/policy/v1"
	rbacv1ac "k8s.io/client-go/applyconfigurations/rbac/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenant-operator/tenant-operator/controllers/ssa"
)

// ExtractedOwnedFieldsHash is what ssa.FieldManager.OwnedFieldsHash must agree with: the hash of what client-go's
// Extract functions, which read the field set with the OpenAPI schema, say manager owns of obj.
func ExtractedOwnedFieldsHash(obj client.Object, manager string) (string, error) {
	var owned any
	var err error
	switch o := obj.(type) {
	case *corev1.Namespace:
		owned, err = corev1ac.ExtractNamespace(o, manager)
	case *corev1.Secret:
		owned, err = corev1ac.ExtractSecret(o, manager)
	case *corev1.ServiceAccount:
		owned, err = corev1ac.ExtractServiceAccount(o, manager)
	case *corev1.Service:
		owned, err = corev1ac.ExtractService(o, manager)
	case *corev1.ResourceQuota:
		owned, err = corev1ac.ExtractResourceQuota(o, manager)
	case *corev1.LimitRange:
		owned, err = corev1ac.ExtractLimitRange(o, manager)
	case *networkingv1.NetworkPolicy:
		owned, err = networkingv1ac.ExtractNetworkPolicy(o, manager)
	case *rbacv1.RoleBinding:
		owned, err = rbacv1ac.ExtractRoleBinding(o, manager)
	case *rbacv1.ClusterRole:
		owned, err = rbacv1ac.ExtractClusterRole(o, manager)
	case *rbacv1.ClusterRoleBinding:
		owned, err = rbacv1ac.ExtractClusterRoleBinding(o, manager)
	case *appsv1.Deployment:
		owned, err = appsv1ac.ExtractDeployment(o, manager)
	case *policyv1.PodDisruptionBudget:
		owned, err = policyv1ac.ExtractPodDisruptionBudget(o, manager)
	default:
		return "", fmt.Errorf("no owned-field extraction for %T", obj)
	}
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(owned)
	if err != nil {
		return "", err
	}
	var content map[string]any
	if err := json.Unmarshal(b, &content); err != nil {
		return "", err
	}
	return ssa.ContentHash(content)
}
