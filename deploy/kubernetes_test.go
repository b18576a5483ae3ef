package deploy_test

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// doc is one parsed YAML document.
type doc struct {
	file string
	v    map[string]any
}

// mustYAML parses every .yaml and .yml file under deploy/, every document
// of each.
func mustYAML(tb testing.TB) []doc {
	tb.Helper()
	var docs []doc
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || (filepath.Ext(p) != ".yaml" && filepath.Ext(p) != ".yml") {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		docs = append(docs, mustDecodeYAML(tb, p, data)...)
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return docs
}

func mustDecodeYAML(tb testing.TB, name string, data []byte) []doc {
	tb.Helper()
	var docs []doc
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var v map[string]any
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			tb.Fatalf("%s: %v", name, err)
		}
		if v != nil {
			docs = append(docs, doc{file: name, v: v})
		}
	}
}

// at walks a parsed document along keys (map keys, or list indices as "0").
func at(v any, keys ...string) any {
	for _, k := range keys {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

func str(v any, keys ...string) string { s, _ := at(v, keys...).(string); return s }

func list(v any, keys ...string) []any { l, _ := at(v, keys...).([]any); return l }

// byKind returns the documents of kind.
func byKind(docs []doc, kind string) []doc {
	var out []doc
	for _, d := range docs {
		if d.v["kind"] == kind {
			out = append(out, d)
		}
	}
	return out
}

// TestKubernetes: the YAML under deploy/ parses, and the CronJob runs the
// image's importer on the job file from the ConfigMap, with the checkpoint
// on the PersistentVolumeClaim, the key from a Secret, one run at a time,
// non-root on a read-only root file system.
func TestKubernetes(t *testing.T) {
	docs := mustYAML(t)
	cronJobs := byKind(docs, "CronJob")
	if len(cronJobs) != 1 {
		t.Fatalf("%d CronJobs under deploy/, want 1", len(cronJobs))
	}
	cj := cronJobs[0].v
	if cj["apiVersion"] != "batch/v1" {
		t.Errorf("CronJob apiVersion %v, want batch/v1", cj["apiVersion"])
	}
	if got := str(cj, "spec", "concurrencyPolicy"); got != "Forbid" {
		t.Errorf("concurrencyPolicy %q, want Forbid (one run per checkpoint)", got)
	}
	if str(cj, "spec", "schedule") == "" {
		t.Error("no schedule")
	}
	if _, ok := at(cj, "spec", "jobTemplate", "spec", "backoffLimit").(int); !ok {
		t.Error("no backoffLimit: decide how often a failed run is retried")
	}
	pod := at(cj, "spec", "jobTemplate", "spec", "template", "spec")
	if got := str(pod, "restartPolicy"); got != "Never" {
		t.Errorf("restartPolicy %q, want Never", got)
	}
	if at(pod, "securityContext", "runAsNonRoot") != true {
		t.Error("pod securityContext: runAsNonRoot is not true")
	}
	if uid := at(pod, "securityContext", "runAsUser"); uid != nil && itoaAny(uid) != dockerUID(t) {
		t.Errorf("runAsUser %v, the image's USER is %s", uid, dockerUID(t))
	}
	containers := list(pod, "containers")
	if len(containers) != 1 {
		t.Fatalf("%d containers, want 1", len(containers))
	}
	c := containers[0]
	if at(c, "securityContext", "readOnlyRootFilesystem") != true || at(c, "securityContext", "allowPrivilegeEscalation") != false {
		t.Error("container securityContext: want readOnlyRootFilesystem true, allowPrivilegeEscalation false")
	}
	if at(c, "resources", "requests") == nil || str(c, "resources", "limits", "memory") == "" {
		t.Error("container resources: want requests and a memory limit")
	}
	if at(c, "command") != nil {
		t.Errorf("command %v overrides the image's ENTRYPOINT", at(c, "command"))
	}
	var args []string
	for _, a := range list(c, "args") {
		args = append(args, a.(string))
	}
	if len(args) == 0 || args[0] != "run" {
		t.Fatalf("args %v: want run --config ...", args)
	}
	config, _ := argAfter(args, "--config")
	if config != dockerConfigPath(t) {
		t.Errorf("args --config %q, the image's CMD reads %q", config, dockerConfigPath(t))
	}

	// The key: from a Secret, never a literal.
	secret := ""
	for _, e := range list(c, "env") {
		name := str(e, "name")
		if strings.Contains(strings.ToUpper(name), "KEY") && at(e, "value") != nil {
			t.Errorf("env %s has a literal value: the key comes from a Secret", name)
		}
		if name == "P100_API_KEY" {
			secret = str(e, "valueFrom", "secretKeyRef", "name")
		}
	}
	volumes := map[string]any{}
	for _, v := range list(pod, "volumes") {
		volumes[str(v, "name")] = v
		if s := str(v, "secret", "secretName"); s != "" && secret == "" {
			secret = s
		}
	}
	if secret == "" {
		t.Error("the key comes from no Secret (env P100_API_KEY from secretKeyRef, or a secret volume)")
	}

	// Mounts: the checkpoint's directory on the PVC, the job file's on the ConfigMap.
	mounts := map[string]any{}
	for _, m := range list(c, "volumeMounts") {
		mounts[str(m, "mountPath")] = volumes[str(m, "name")]
	}
	job, _ := mustJobFile(t)
	checkpointDir := path.Dir(job["checkpoint"].(string))
	claim := str(mounts[checkpointDir], "persistentVolumeClaim", "claimName")
	if claim == "" {
		t.Errorf("nothing from a PersistentVolumeClaim is mounted at %s, the job file's checkpoint directory", checkpointDir)
	}
	pvcs := byKind(docs, "PersistentVolumeClaim")
	found := false
	for _, p := range pvcs {
		if str(p.v, "metadata", "name") == claim {
			found = true
			modes := list(p.v, "spec", "accessModes")
			if len(modes) == 0 || modes[0] != "ReadWriteOnce" {
				t.Errorf("PVC %s accessModes %v, want ReadWriteOnce", claim, modes)
			}
		}
	}
	if !found {
		t.Errorf("the PersistentVolumeClaim %q is not under deploy/", claim)
	}
	configMap := str(mounts[path.Dir(config)], "configMap", "name")
	if configMap == "" {
		t.Fatalf("no ConfigMap is mounted at %s, where --config looks", path.Dir(config))
	}

	// The kustomization: every resource exists, the ConfigMap is generated
	// from nightly.toml, the image is the Dockerfile's.
	kusts := byKind(docs, "Kustomization")
	if len(kusts) != 1 {
		t.Fatalf("%d kustomizations, want 1", len(kusts))
	}
	k := kusts[0]
	base := filepath.Dir(k.file)
	for _, r := range list(k.v, "resources") {
		if _, err := os.Stat(filepath.Join(base, r.(string))); err != nil {
			t.Errorf("kustomization resource: %v", err)
		}
	}
	generated := false
	for _, g := range list(k.v, "configMapGenerator") {
		if str(g, "name") != configMap {
			continue
		}
		for _, f := range list(g, "files") {
			file := f.(string)
			if _, name, ok := strings.Cut(file, "="); ok {
				file = name
			}
			if filepath.Join(base, file) == "nightly.toml" && path.Base(config) == "nightly.toml" {
				generated = true
			}
		}
	}
	if !generated {
		t.Errorf("the ConfigMap %q is not generated from deploy/nightly.toml as %s", configMap, path.Base(config))
	}
	image := str(c, "image")
	renamed := false
	for _, i := range list(k.v, "images") {
		if str(i, "name") == image {
			renamed = true
			image = str(i, "newName")
		}
	}
	if !renamed || path.Base(image) != "p100-importer" {
		t.Errorf("image %q: want the kustomization's images entry naming .../p100-importer (the Dockerfile's image)", image)
	}
}

func itoaAny(v any) string {
	n, ok := v.(int)
	if !ok {
		return ""
	}
	return strconv.Itoa(n)
}

// TestKustomizeBuild builds deploy/ with `kubectl kustomize` (offline),
// and checks the generated ConfigMap is the one the CronJob mounts and
// carries nightly.toml byte for byte.
func TestKustomizeBuild(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl is not installed")
	}
	out, err := exec.Command(kubectl, "kustomize", ".").Output()
	if err != nil {
		t.Fatalf("kubectl kustomize deploy: %v", err)
	}
	docs := mustDecodeYAML(t, "kubectl kustomize deploy", out)
	cms := byKind(docs, "ConfigMap")
	cjs := byKind(docs, "CronJob")
	if len(cms) != 1 || len(cjs) != 1 {
		t.Fatalf("built %d ConfigMaps, %d CronJobs; want 1 and 1", len(cms), len(cjs))
	}
	want, err := os.ReadFile("nightly.toml")
	if err != nil {
		t.Fatal(err)
	}
	if got := str(cms[0].v, "data", "nightly.toml"); got != string(want) {
		t.Errorf("the built ConfigMap's nightly.toml differs from deploy/nightly.toml")
	}
	name := str(cms[0].v, "metadata", "name")
	mounted := false
	for _, v := range list(cjs[0].v, "spec", "jobTemplate", "spec", "template", "spec", "volumes") {
		if str(v, "configMap", "name") == name {
			mounted = true
		}
	}
	if !mounted {
		t.Errorf("the built CronJob does not mount the generated ConfigMap %s", name)
	}
	if img := str(cjs[0].v, "spec", "jobTemplate", "spec", "template", "spec", "containers", "0", "image"); path.Base(strings.Split(img, ":")[0]) != "p100-importer" {
		t.Errorf("built image %q: want .../p100-importer:TAG", img)
	}
}
