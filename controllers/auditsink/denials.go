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

package auditsink

import (
	"encoding/json"
	"slices"

	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"
)

// Event is the part of an audit.k8s.io/v1 Event read here: decoding no more keeps a batch's request and response
// bodies (the policy records RBAC and NetworkPolicy changes with theirs) out of the operator's memory.
type Event struct {
	Stage            auditv1.Stage     `json:"stage"`
	User             userInfo          `json:"user"`
	ImpersonatedUser *userInfo         `json:"impersonatedUser,omitempty"`
	ObjectRef        *objectReference  `json:"objectRef,omitempty"`
	Annotations      map[string]string `json:"annotations,omitempty"`
}

type userInfo struct {
	Username string `json:"username"`
}

type objectReference struct {
	Namespace string `json:"namespace,omitempty"`
}

// EventList is an audit.k8s.io/v1 EventList, as the apiserver's audit webhook posts it.
type EventList struct {
	Items []Event `json:"items"`
}

const (
	// annotationValidationFailure is where the apiserver records the admission policies a request failed, for bindings
	// with the Audit validation action (the guardrails' bindings have Deny and Audit).
	annotationValidationFailure = "validation.policy.admission.k8s.io/validation_failure"
	// annotationAuthorizationDecision is the authorizer's verdict on a request: allow or forbid.
	annotationAuthorizationDecision = "authorization.k8s.io/decision"

	// DeniedByRBAC is the refuser of a request the authorizer forbade.
	DeniedByRBAC = "rbac"
)

// Denial is one request refused in a namespace: who made it, and what refused it.
type Denial struct {
	Namespace string
	User      string
	DeniedBy  string
}

// validationFailure is the part of the apiserver's validation_failure annotation entries read here.
type validationFailure struct {
	Policy            string   `json:"policy"`
	ValidationActions []string `json:"validationActions"`
}

// Denials are the refusals the events record in namespaces: one per refusing admission policy whose binding denies,
// or one for RBAC. Events are read at their last stage only (ResponseComplete, or Panic), so a request is counted
// once; the user is the one the request acted as (the impersonated user when there is one).
func Denials(events []Event) []Denial {
	var out []Denial
	for i := range events {
		ev := &events[i]
		if ev.Stage != auditv1.StageResponseComplete && ev.Stage != auditv1.StagePanic {
			continue
		}
		if ev.ObjectRef == nil || ev.ObjectRef.Namespace == "" {
			continue
		}
		user := ev.User.Username
		if ev.ImpersonatedUser != nil && ev.ImpersonatedUser.Username != "" {
			user = ev.ImpersonatedUser.Username
		}
		denial := Denial{Namespace: ev.ObjectRef.Namespace, User: user}
		if ev.Annotations[annotationAuthorizationDecision] == "forbid" {
			denial.DeniedBy = DeniedByRBAC
			out = append(out, denial)
			continue
		}
		for _, policy := range denyingPolicies(ev.Annotations[annotationValidationFailure]) {
			denial.DeniedBy = policy
			out = append(out, denial)
		}
	}
	return out
}

// denyingPolicies are the distinct policies of a validation_failure annotation whose bindings deny (an Audit-only
// binding records a failure it lets through). A value that does not parse names none: the annotation is the
// apiserver's, never a client's.
func denyingPolicies(annotation string) []string {
	if annotation == "" {
		return nil
	}
	var failures []validationFailure
	if err := json.Unmarshal([]byte(annotation), &failures); err != nil {
		return nil
	}
	var policies []string
	for _, f := range failures {
		if f.Policy != "" && slices.Contains(f.ValidationActions, "Deny") && !slices.Contains(policies, f.Policy) {
			policies = append(policies, f.Policy)
		}
	}
	return policies
}
