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

// Package status computes a Tenant's status from what a reconcile pass found: one condition per area (render.Area),
// Ready, the phase, the back-end's replicas, and why a back-end cannot start. Pure functions: the same inputs give
// the same status, with condition times kept whenever a condition did not change.
//
// It imports the API types, the core and apps types, and render (areas and problems); no client, cache or clock.
package status
