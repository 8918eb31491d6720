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
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/tenant-operator/tenant-operator/controllers/render"
)

const serviceExposure = "tenant-operator-service-exposure"

// event is an audit event of a request in a namespace, at its last stage, with the given annotations.
func event(namespace, user string, annotations map[string]string, mutate ...func(*auditv1.Event)) auditv1.Event {
	ev := auditv1.Event{
		Stage:       auditv1.StageResponseComplete,
		User:        authnv1.UserInfo{Username: user},
		ObjectRef:   &auditv1.ObjectReference{Resource: "services", Namespace: namespace, Name: "lb"},
		Annotations: annotations,
	}
	for _, m := range mutate {
		m(&ev)
	}
	return ev
}

func failure(policy string, actions ...string) string {
	raw, _ := json.Marshal([]map[string]any{{"policy": policy, "binding": policy, "message": "no", "validationActions": actions}})
	return string(raw)
}

func TestDenials(t *testing.T) {
	forbid := map[string]string{annotationAuthorizationDecision: "forbid"}
	tests := []struct {
		name   string
		events []auditv1.Event
		want   []Denial
	}{
		{"a guardrail's refusal names its policy",
			[]auditv1.Event{event("acme", "alice", map[string]string{annotationValidationFailure: failure(serviceExposure, "Deny", "Audit")})},
			[]Denial{{Namespace: "acme", User: "alice", DeniedBy: serviceExposure}}},
		{"RBAC's refusal",
			[]auditv1.Event{event("acme", "mallory", forbid)},
			[]Denial{{Namespace: "acme", User: "mallory", DeniedBy: DeniedByRBAC}}},
		{"an impersonated request is the impersonated user's",
			[]auditv1.Event{event("acme", "admin", forbid, func(ev *auditv1.Event) { ev.ImpersonatedUser = &authnv1.UserInfo{Username: "bob"} })},
			[]Denial{{Namespace: "acme", User: "bob", DeniedBy: DeniedByRBAC}}},
		{"an Audit-only binding's failure let the request through",
			[]auditv1.Event{event("acme", "alice", map[string]string{annotationValidationFailure: failure("observe-only", "Audit")})},
			nil},
		{"one refusal by two policies counts for each, a policy once",
			[]auditv1.Event{event("acme", "alice", map[string]string{annotationValidationFailure: `[` +
				`{"policy":"a","validationActions":["Deny","Audit"]},{"policy":"a","validationActions":["Deny","Audit"]},` +
				`{"policy":"b","validationActions":["Deny","Audit"]}]`})},
			[]Denial{{"acme", "alice", "a"}, {"acme", "alice", "b"}}},
		{"allowed requests, earlier stages, cluster-scoped requests and unparsable annotations are no refusals",
			[]auditv1.Event{
				event("acme", "alice", map[string]string{annotationAuthorizationDecision: "allow"}),
				event("acme", "alice", forbid, func(ev *auditv1.Event) { ev.Stage = auditv1.StageResponseStarted }),
				event("", "alice", forbid),
				event("acme", "alice", forbid, func(ev *auditv1.Event) { ev.ObjectRef = nil }),
				event("acme", "alice", map[string]string{annotationValidationFailure: "{not json"}),
			},
			nil},
		{"a panic is the request's last stage",
			[]auditv1.Event{event("acme", "alice", forbid, func(ev *auditv1.Event) { ev.Stage = auditv1.StagePanic })},
			[]Denial{{"acme", "alice", DeniedByRBAC}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var list EventList
			if err := json.Unmarshal(eventList(t, tt.events...), &list); err != nil {
				t.Fatal(err)
			}
			if got := Denials(list.Items); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Denials = %+v, want %+v", got, tt.want)
			}
		})
	}
}

type counted map[string]int

func (c counted) Count(tenant, user, deniedBy string) { c[tenant+"/"+user+"/"+deniedBy]++ }

// Forget drops the user's counts, as deleting its series does.
func (c counted) Forget(tenant, user string) {
	for k := range c {
		if strings.HasPrefix(k, tenant+"/"+user+"/") {
			delete(c, k)
		}
	}
}

func namespace(name string, labels map[string]string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
}

func post(t *testing.T, h http.Handler, method string, body []byte) int {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, "/audit-events", bytes.NewReader(body)))
	return rec.Code
}

func eventList(t *testing.T, events ...auditv1.Event) []byte {
	t.Helper()
	raw, err := json.Marshal(auditv1.EventList{TypeMeta: metav1.TypeMeta{APIVersion: "audit.k8s.io/v1", Kind: "EventList"}, Items: events})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestHandlerCountsRefusalsInManagedNamespaces: refusals count under the tenant the namespace's labels name, and
// only in namespaces the operator manages: a namespace that merely carries a tenant label counts for nobody.
func TestHandlerCountsRefusalsInManagedNamespaces(t *testing.T) {
	reader := fake.NewClientBuilder().WithObjects(
		namespace("acme-prod", map[string]string{render.LabelManagedBy: render.ManagedByValue, render.LabelTenant: "acme"}),
		namespace("look-alike", map[string]string{render.LabelTenant: "acme"}),
	).Build()
	c := counted{}
	h := &Handler{Namespaces: reader, Counter: c}
	forbid := map[string]string{annotationAuthorizationDecision: "forbid"}
	body := eventList(t,
		event("acme-prod", "alice", map[string]string{annotationValidationFailure: failure(serviceExposure, "Deny", "Audit")}),
		event("acme-prod", "alice", map[string]string{annotationValidationFailure: failure(serviceExposure, "Deny", "Audit")}),
		event("acme-prod", "mallory", forbid),
		event("look-alike", "mallory", forbid),
		event("gone", "mallory", forbid),
	)
	if code := post(t, h, http.MethodPost, body); code != http.StatusOK {
		t.Fatalf("POST = %d", code)
	}
	want := counted{"acme/alice/" + serviceExposure: 2, "acme/mallory/rbac": 1}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("counted %v, want %v", c, want)
	}
	if code := post(t, h, http.MethodGet, nil); code != http.StatusMethodNotAllowed {
		t.Errorf("GET = %d", code)
	}
	if code := post(t, h, http.MethodPost, []byte("{not json")); code != http.StatusBadRequest {
		t.Errorf("a body that is no EventList = %d", code)
	}
}

// TestHandlerBoundsUsersPerTenant: past a tenant's first MaxUsersPerTenant users, refusals count under OtherUsers;
// the users already known keep their own series.
func TestHandlerBoundsUsersPerTenant(t *testing.T) {
	reader := fake.NewClientBuilder().WithObjects(
		namespace("acme", map[string]string{render.LabelManagedBy: render.ManagedByValue, render.LabelTenant: "acme"}),
		namespace("globex", map[string]string{render.LabelManagedBy: render.ManagedByValue, render.LabelTenant: "globex"}),
	).Build()
	c := counted{}
	now := time.Now()
	h := &Handler{Namespaces: reader, Counter: c, MaxUsersPerTenant: 2, Now: func() time.Time { return now }}
	forbid := map[string]string{annotationAuthorizationDecision: "forbid"}
	events := make([]auditv1.Event, 0, 7)
	for i := range 5 {
		events = append(events, event("acme", fmt.Sprintf("user-%d", i), forbid))
	}
	events = append(events, event("acme", "user-0", forbid), event("globex", "user-9", forbid))
	if code := post(t, h, http.MethodPost, eventList(t, events...)); code != http.StatusOK {
		t.Fatalf("POST = %d", code)
	}
	want := counted{"acme/user-0/rbac": 2, "acme/user-1/rbac": 1, "acme/" + OtherUsers + "/rbac": 3, "globex/user-9/rbac": 1}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("counted %v, want %v", c, want)
	}

	// Past UserIdleAfter with no refusal, user-1 gives its place (and series) to a newcomer; user-0, refused again
	// just before, keeps its own.
	now = now.Add(UserIdleAfter - time.Minute)
	post(t, h, http.MethodPost, eventList(t, event("acme", "user-0", forbid)))
	now = now.Add(2 * time.Minute)
	post(t, h, http.MethodPost, eventList(t, event("acme", "newcomer", forbid)))
	want = counted{"acme/user-0/rbac": 3, "acme/newcomer/rbac": 1, "acme/" + OtherUsers + "/rbac": 3, "globex/user-9/rbac": 1}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("after user-1 idled: counted %v, want %v", c, want)
	}
}

// unreadable fails reads of one namespace, as a cache that has not synced yet does.
type unreadable struct {
	client.Reader
	namespace string
}

func (u unreadable) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if key.Name == u.namespace {
		return fmt.Errorf("the cache is not started")
	}
	return u.Reader.Get(ctx, key, obj, opts...)
}

// TestHandlerAsksForARetryWhenNamespacesCannotBeRead: a batch with a namespace that cannot be read is refused with
// 503, so the apiserver sends it again, and nothing of it was counted, not even the refusals before that namespace:
// the retry counts them once.
func TestHandlerAsksForARetryWhenNamespacesCannotBeRead(t *testing.T) {
	c := counted{}
	reader := fake.NewClientBuilder().WithObjects(
		namespace("acme", map[string]string{render.LabelManagedBy: render.ManagedByValue, render.LabelTenant: "acme"}),
	).Build()
	h := &Handler{Namespaces: unreadable{Reader: reader, namespace: "globex"}, Counter: c}
	forbid := map[string]string{annotationAuthorizationDecision: "forbid"}
	if code := post(t, h, http.MethodPost, eventList(t, event("acme", "alice", forbid), event("globex", "alice", forbid))); code != http.StatusServiceUnavailable {
		t.Errorf("POST = %d, want 503", code)
	}
	if len(c) != 0 {
		t.Errorf("counted %v", c)
	}
}

// blocking holds every read until released, as a slow cache would.
type blocking struct {
	client.Reader
	entered chan struct{}
	release chan struct{}
}

func (b blocking) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	b.entered <- struct{}{}
	<-b.release
	return b.Reader.Get(ctx, key, obj, opts...)
}

// TestHandlerBoundsBatchesInFlight: past MaxInFlight batches at once, one more is answered 429 (the apiserver
// retries it) instead of being decoded beside them.
func TestHandlerBoundsBatchesInFlight(t *testing.T) {
	reader := blocking{Reader: fake.NewClientBuilder().Build(), entered: make(chan struct{}), release: make(chan struct{})}
	h := &Handler{Namespaces: reader, Counter: counted{}}
	body := eventList(t, event("acme", "alice", map[string]string{annotationAuthorizationDecision: "forbid"}))
	done := make(chan int, MaxInFlight)
	for range MaxInFlight {
		go func() { done <- post(t, h, http.MethodPost, body) }()
		<-reader.entered
	}
	if code := post(t, h, http.MethodPost, body); code != http.StatusTooManyRequests {
		t.Errorf("a batch beyond %d in flight: %d, want 429", MaxInFlight, code)
	}
	close(reader.release)
	for range MaxInFlight {
		if code := <-done; code != http.StatusOK {
			t.Errorf("a batch in flight: %d", code)
		}
	}
}
