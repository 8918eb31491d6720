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

// Package images builds the project's OCI images without a container engine, the way ko does: a base layer that
// stands for distroless/static:nonroot (its users, groups and directories), and a layer with one static binary, with
// the user, entrypoint, working directory and labels of the image's definition. It also serves a registry on
// loopback for a local cluster's container runtime to pull them from.
//
// Images: Operator, from the Dockerfile's final stage and the manager binary; Backend, the example back-end of
// test/fixtures/backend. Both are reproducible: the same binary gives the same digest.
package images

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/tenant-operator/tenant-operator/test/dockerfile"
)

// NonRoot is the user and group of distroless's nonroot user, which both images run as.
const NonRoot = "65532:65532"

// File is one entry of a layer.
type File struct {
	Path     string
	Mode     int64 // permission bits; a directory when Dir
	Dir      bool
	UID, GID int
	Data     []byte
}

// epoch is every file's modification time, so that the same content gives the same digest.
var epoch = time.Unix(0, 0).UTC()

// BaseFiles are what distroless/static:nonroot gives a static binary: the users root, nobody and nonroot (65532),
// their groups and homes, a world-writable /tmp and name resolution from files then DNS. No CA bundle: neither
// image talks to anything but the cluster, whose CA comes with the pod.
func BaseFiles() []File {
	return []File{
		{Path: "etc", Mode: 0o755, Dir: true},
		{Path: "etc/passwd", Mode: 0o644, Data: []byte("root:x:0:0:root:/root:/sbin/nologin\n" +
			"nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n" +
			"nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n")},
		{Path: "etc/group", Mode: 0o644, Data: []byte("root:x:0:\nnobody:x:65534:\ntty:x:5:\nstaff:x:50:\nnonroot:x:65532:\n")},
		{Path: "etc/nsswitch.conf", Mode: 0o644, Data: []byte("hosts: files dns\n")},
		{Path: "home", Mode: 0o755, Dir: true},
		{Path: "home/nonroot", Mode: 0o700, Dir: true, UID: 65532, GID: 65532},
		{Path: "root", Mode: 0o700, Dir: true},
		{Path: "tmp", Mode: 0o1777, Dir: true},
	}
}

// Layer packs files into a gzipped OCI layer.
func Layer(files []File) (v1.Layer, error) {
	var buf bytes.Buffer
	w := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{Name: f.Path, Mode: f.Mode, Uid: f.UID, Gid: f.GID, ModTime: epoch, Format: tar.FormatPAX}
		if f.Dir {
			h.Typeflag, h.Name = tar.TypeDir, strings.TrimSuffix(f.Path, "/")+"/"
		} else {
			h.Typeflag, h.Size = tar.TypeReg, int64(len(f.Data))
		}
		if err := w.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := w.Write(f.Data); err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
		tarball.WithMediaType(types.OCILayer))
}

// Config is what an image runs.
type Config struct {
	User       string
	Entrypoint []string
	WorkingDir string
	Labels     map[string]string
}

// Image is an OCI image for linux/amd64 (or the build's architecture) of the base files and files, running cfg.
func Image(files []File, cfg Config, architecture string) (v1.Image, error) {
	base, err := Layer(BaseFiles())
	if err != nil {
		return nil, err
	}
	top, err := Layer(files)
	if err != nil {
		return nil, err
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	if img, err = mutate.AppendLayers(img, base, top); err != nil {
		return nil, err
	}
	file, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	file = file.DeepCopy()
	file.OS, file.Architecture, file.Created = "linux", architecture, v1.Time{Time: epoch}
	file.Config.User, file.Config.Entrypoint, file.Config.WorkingDir = cfg.User, cfg.Entrypoint, cfg.WorkingDir
	file.Config.Labels = cfg.Labels
	file.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	return mutate.ConfigFile(img, file)
}

// GoBuild builds pkg (a package path like ./test/fixtures/backend) of the module at root into out, as a static
// binary for an image.
func GoBuild(ctx context.Context, root, pkg, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", out, pkg)
	cmd.Dir, cmd.Env = root, append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, b)
	}
	return nil
}

// Binary is a file holding the executable at binaryPath, at path in the image.
func Binary(binaryPath, at string) (File, error) {
	data, err := os.ReadFile(binaryPath)
	if err != nil {
		return File{}, err
	}
	return File{Path: strings.TrimPrefix(path.Clean("/"+at), "/"), Mode: 0o755, Data: data}, nil
}

// Operator is the operator's image as the Dockerfile defines it (final stage: the copied binary, USER, ENTRYPOINT,
// WORKDIR, LABELs with version), holding managerBinary, which must be the static binary the Dockerfile's build
// stage makes (make's bin/manager is).
func Operator(dockerfilePath, managerBinary, version, architecture string) (v1.Image, error) {
	d, err := dockerfile.Parse(dockerfilePath)
	if err != nil {
		return nil, err
	}
	final := d.Final()
	entrypoint, ok := final.Last("entrypoint")
	if !ok || !entrypoint.JSON || len(entrypoint.Args) == 0 {
		return nil, fmt.Errorf("%s: the final stage needs an exec-form ENTRYPOINT", dockerfilePath)
	}
	workdir := "/"
	if w, ok := final.Last("workdir"); ok && len(w.Args) > 0 {
		workdir = w.Args[0]
	}
	binary, err := Binary(managerBinary, path.Join(workdir, copiedBinary(final)))
	if err != nil {
		return nil, err
	}
	labels := map[string]string{}
	for _, inst := range final.Instructions {
		if inst.Command != "label" {
			continue
		}
		// BuildKit's parser gives key, value and "=" for each key=value of a LABEL.
		for i := 0; i+1 < len(inst.Args); i += 2 {
			labels[inst.Args[i]] = strings.ReplaceAll(strings.Trim(inst.Args[i+1], "\""), "${VERSION}", version)
			if i+2 < len(inst.Args) && inst.Args[i+2] == "=" {
				i++
			}
		}
	}
	return Image([]File{binary}, Config{User: final.User(), Entrypoint: entrypoint.Args, WorkingDir: workdir, Labels: labels}, architecture)
}

// copiedBinary is where the final stage's COPY --from puts the binary, relative to WORKDIR: its destination, or the
// source's name when the destination is a directory.
func copiedBinary(final *dockerfile.Stage) string {
	for _, inst := range slices.Backward(final.Instructions) {
		if _, from := inst.Flag("from"); inst.Command == "copy" && from && len(inst.Args) >= 2 {
			src, dest := inst.Args[len(inst.Args)-2], inst.Args[len(inst.Args)-1]
			if dest == "." || strings.HasSuffix(dest, "/") {
				return path.Join(dest, path.Base(src))
			}
			return dest
		}
	}
	return "manager"
}

// Backend is the example back-end's image: backendBinary at /backend, run as nonroot.
func Backend(backendBinary, architecture string) (v1.Image, error) {
	binary, err := Binary(backendBinary, "/backend")
	if err != nil {
		return nil, err
	}
	return Image([]File{binary}, Config{User: NonRoot, Entrypoint: []string{"/backend"}, WorkingDir: "/",
		Labels: map[string]string{"org.opencontainers.image.title": "tenant-operator-example-backend"}}, architecture)
}
