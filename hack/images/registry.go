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

package images

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Registry is an in-memory OCI registry on loopback, over plain HTTP: what a local cluster's container runtime
// pulls the project's images from (imagePullPolicy Always needs a registry).
type Registry struct {
	// Host is the registry's host:port, the first part of its images' references.
	Host   string
	server *http.Server
}

// ServeRegistry starts a registry on addr (127.0.0.1:0 picks a free port). Close stops it; its images go with it.
func ServeRegistry(addr string) (*Registry, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	quiet := log.New(io.Discard, "", 0)
	r := &Registry{Host: l.Addr().String(), server: &http.Server{
		Handler: registry.New(registry.Logger(quiet)), ReadHeaderTimeout: 10 * time.Second,
	}}
	go func() {
		if err := r.server.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			quiet.Print(err)
		}
	}()
	return r, nil
}

// Close stops the registry.
func (r *Registry) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return r.server.Shutdown(ctx)
}

// Push stores img as repository:tag and returns its reference by digest (host/repository@sha256:...), which pins
// exactly this image.
func (r *Registry) Push(ctx context.Context, img v1.Image, repository, tag string) (string, error) {
	ref, err := name.ParseReference(fmt.Sprintf("%s/%s:%s", r.Host, repository, tag), name.Insecure)
	if err != nil {
		return "", err
	}
	if err := remote.Write(ref, img, remote.WithContext(ctx)); err != nil {
		return "", fmt.Errorf("pushing %s: %w", ref, err)
	}
	digest, err := img.Digest()
	if err != nil {
		return "", err
	}
	return ref.Context().Digest(digest.String()).String(), nil
}

// Pull reads an image back by reference, as a container runtime would.
func Pull(ctx context.Context, reference string) (v1.Image, error) {
	ref, err := name.ParseReference(reference, name.Insecure)
	if err != nil {
		return nil, err
	}
	return remote.Image(ref, remote.WithContext(ctx))
}
