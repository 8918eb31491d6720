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

package metricsauth

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-logr/logr"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// TestMetricsAuth: no token or an unknown one is 401, a known user without the right is 403, the metrics reader is
// let through; verdicts are reused until they expire, and only the path asked for is authorized.
func TestMetricsAuth(t *testing.T) {
	cs := fake.NewClientset()
	reviews := 0
	cs.PrependReactor("create", "tokenreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		reviews++
		tr := a.(k8stesting.CreateAction).GetObject().(*authenticationv1.TokenReview)
		switch tr.Spec.Token {
		case "reader", "stranger":
			tr.Status = authenticationv1.TokenReviewStatus{Authenticated: true, User: authenticationv1.UserInfo{Username: tr.Spec.Token,
				Extra: map[string]authenticationv1.ExtraValue{"scope": {"x"}}}}
		}
		return true, tr, nil
	})
	cs.PrependReactor("create", "subjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		sar := a.(k8stesting.CreateAction).GetObject().(*authorizationv1.SubjectAccessReview)
		na := sar.Spec.NonResourceAttributes
		sar.Status.Allowed = sar.Spec.User == "reader" && na.Path == "/metrics" && na.Verb == "get" && sar.Spec.Extra["scope"][0] == "x"
		return true, sar, nil
	})
	now := time.Unix(0, 0)
	auth := newMetricsAuth(cs.AuthenticationV1().TokenReviews(), cs.AuthorizationV1().SubjectAccessReviews(), func() time.Time { return now })
	handler, err := auth.filter(logr.Discard(), http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }))
	if err != nil {
		t.Fatal(err)
	}
	get := func(path, authorization string) int {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		return rec.Code
	}
	for _, tc := range []struct {
		path, authorization string
		want                int
	}{
		{"/metrics", "", http.StatusUnauthorized},
		{"/metrics", "Basic cmVhZGVy", http.StatusUnauthorized},
		{"/metrics", "Bearer forged", http.StatusUnauthorized},
		{"/metrics", "Bearer stranger", http.StatusForbidden},
		{"/metrics", "Bearer reader", http.StatusOK},
		{"/debug", "Bearer reader", http.StatusForbidden},
		{"/metrics", "bearer reader", http.StatusOK},
	} {
		if got := get(tc.path, tc.authorization); got != tc.want {
			t.Errorf("GET %s with %q = %d, want %d", tc.path, tc.authorization, got, tc.want)
		}
	}
	before := reviews
	get("/metrics", "Bearer reader")
	if reviews != before {
		t.Error("a fresh verdict was not reused")
	}
	now = now.Add(metricsAllowTTL + time.Second)
	get("/metrics", "Bearer reader")
	if reviews != before+1 {
		t.Error("an expired verdict was reused")
	}
}
