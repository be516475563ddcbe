package ci

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// How strict the GitLab check is. GitLab's own linter (the CI Lint API)
// needs a GitLab instance, and its JSON schema lives in GitLab's source, so
// this checks the file against the keywords of GitLab's CI/CD YAML syntax
// reference (docs.gitlab.com/ci/yaml/), by name:
//
//   - every key at the top level, in a job, in default:, workflow:,
//     rules:, artifacts:, artifacts:reports: and parallel: must be one
//     GitLab documents there; a misspelt key is an error (GitLab would
//     either reject it or, at the top level, take it for a job);
//   - keywords GitLab deprecates are errors: only/except (use rules), and
//     image/services/cache/before_script/after_script at the top level
//     (use default:);
//   - values: scripts are strings or lists of strings, tags and paths
//     lists of strings, when: and artifacts:when: one of their documented
//     values, parallel: 1–200 or a matrix (a list of maps of variable to
//     value or list of values), timeout: a string;
//   - references: a job's stage: is in stages:, its needs:, dependencies:
//     and extends: name jobs of the file, and it has a script: (or
//     trigger:, or extends: a job that has one).
//
// Not checked: what scripts do, CI/CD variable expansion, include: targets,
// and the finer sub-keys of cache:, environment:, image:, services:,
// release: and the like (none of which these files use: a key there is
// accepted, not checked).
var (
	// The global keywords (default, include, stages, variables,
	// workflow) are the cases of gitlabCheck.check; any other top-level
	// key is a job.
	gitlabDeprecated = map[string]string{
		"image": "use default:image", "services": "use default:services", "cache": "use default:cache",
		"before_script": "use default:before_script", "after_script": "use default:after_script",
		"only": "use rules:", "except": "use rules:", "types": "use stages:", "type": "use stage:",
	}
	gitlabJob = []string{"after_script", "allow_failure", "artifacts", "before_script", "cache", "coverage",
		"dast_configuration", "dependencies", "environment", "extends", "hooks", "identity", "id_tokens", "image",
		"inherit", "interruptible", "manual_confirmation", "needs", "pages", "parallel", "release", "resource_group",
		"retry", "rules", "run", "script", "secrets", "services", "stage", "tags", "timeout", "trigger", "variables", "when"}
	gitlabDefault = []string{"after_script", "artifacts", "before_script", "cache", "hooks", "id_tokens", "image",
		"interruptible", "retry", "services", "tags", "timeout"}
	gitlabWorkflow     = []string{"name", "rules", "auto_cancel"}
	gitlabWorkflowRule = []string{"if", "changes", "exists", "variables", "when", "auto_cancel"}
	gitlabJobRule      = []string{"if", "changes", "exists", "allow_failure", "needs", "variables", "when", "interruptible"}
	gitlabArtifacts    = []string{"paths", "exclude", "expire_in", "expose_as", "name", "public", "access", "reports", "untracked", "when"}
	gitlabReports      = []string{"accessibility", "annotations", "api_fuzzing", "browser_performance", "coverage_report",
		"codequality", "container_scanning", "coverage_fuzzing", "cyclonedx", "dast", "dependency_scanning", "dotenv",
		"junit", "load_performance", "metrics", "requirements", "repository_xray", "sast", "secret_detection", "terraform"}
	gitlabWhen          = []string{"on_success", "on_failure", "always", "manual", "delayed", "never"}
	gitlabArtifactsWhen = []string{"on_success", "on_failure", "always"}
	gitlabDefaultStages = []string{".pre", "build", "test", "deploy", ".post"}
)

// gitlabCheck collects the problems of one file.
type gitlabCheck struct {
	file string
	errs []string
}

func (c *gitlabCheck) errorf(n *yaml.Node, format string, args ...any) {
	c.errs = append(c.errs, fmt.Sprintf("%s:%d: %s", c.file, n.Line, fmt.Sprintf(format, args...)))
}

// pairs returns a mapping's keys and values, or reports that n is not one.
func (c *gitlabCheck) pairs(n *yaml.Node, what string) [][2]*yaml.Node {
	if n.Kind != yaml.MappingNode {
		c.errorf(n, "%s: want a mapping", what)
		return nil
	}
	var ps [][2]*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		ps = append(ps, [2]*yaml.Node{n.Content[i], n.Content[i+1]})
	}
	return ps
}

// keys checks that every key of mapping n is one of allowed.
func (c *gitlabCheck) keys(n *yaml.Node, what string, allowed []string) map[string]*yaml.Node {
	got := map[string]*yaml.Node{}
	for _, p := range c.pairs(n, what) {
		k := p[0].Value
		switch {
		case gitlabDeprecated[k] != "" && (what == "top level" || strings.HasPrefix(what, "job ")) && !slices.Contains(allowed, k):
			c.errorf(p[0], "%s: %q is deprecated by GitLab (%s)", what, k, gitlabDeprecated[k])
		case !slices.Contains(allowed, k):
			c.errorf(p[0], "%s: unknown key %q (GitLab documents: %s)", what, k, strings.Join(allowed, ", "))
		}
		got[k] = p[1]
	}
	return got
}

func (c *gitlabCheck) strings(n *yaml.Node, what string) []string {
	if n.Kind == yaml.ScalarNode {
		return []string{n.Value}
	}
	if n.Kind != yaml.SequenceNode {
		c.errorf(n, "%s: want a string or a list of strings", what)
		return nil
	}
	var out []string
	for _, e := range n.Content {
		if e.Kind != yaml.ScalarNode {
			c.errorf(e, "%s: want a string", what)
			continue
		}
		out = append(out, e.Value)
	}
	return out
}

func (c *gitlabCheck) script(n *yaml.Node, what string) {
	if n.Kind == yaml.SequenceNode {
		for _, e := range n.Content {
			if e.Kind == yaml.SequenceNode { // one level of nesting (YAML anchors of script lists)
				c.strings(e, what)
			} else if e.Kind != yaml.ScalarNode {
				c.errorf(e, "%s: want a command string", what)
			}
		}
		return
	}
	c.strings(n, what)
}

func (c *gitlabCheck) oneOf(n *yaml.Node, what string, allowed []string) {
	if n.Kind != yaml.ScalarNode || !slices.Contains(allowed, n.Value) {
		c.errorf(n, "%s: %q is not one of %s", what, n.Value, strings.Join(allowed, ", "))
	}
}

func (c *gitlabCheck) rules(n *yaml.Node, what string, allowed []string) {
	if n.Kind != yaml.SequenceNode {
		c.errorf(n, "%s: want a list of rules", what)
		return
	}
	for _, r := range n.Content {
		got := c.keys(r, what, allowed)
		if w, ok := got["when"]; ok {
			c.oneOf(w, what+":when", gitlabWhen)
		}
	}
}

func (c *gitlabCheck) variables(n *yaml.Node, what string) {
	for _, p := range c.pairs(n, what) {
		if p[1].Kind == yaml.MappingNode {
			c.keys(p[1], what+":"+p[0].Value, []string{"value", "description", "options", "expand"})
		} else if p[1].Kind != yaml.ScalarNode {
			c.errorf(p[1], "%s:%s: want a string", what, p[0].Value)
		}
	}
}

// check checks a whole pipeline file.
func (c *gitlabCheck) check(src []byte) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		c.errs = append(c.errs, fmt.Sprintf("%s: %v", c.file, err))
		return
	}
	if len(doc.Content) != 1 {
		c.errs = append(c.errs, c.file+": want one YAML document")
		return
	}
	root := doc.Content[0]
	stages := gitlabDefaultStages
	jobs := map[string]map[string]*yaml.Node{}
	var order []string
	for _, p := range c.pairs(root, "top level") {
		k, v := p[0].Value, p[1]
		switch {
		case k == "stages":
			stages = append([]string{".pre"}, append(c.strings(v, "stages"), ".post")...)
		case k == "variables":
			c.variables(v, "variables")
		case k == "workflow":
			if r, ok := c.keys(v, "workflow", gitlabWorkflow)["rules"]; ok {
				c.rules(r, "workflow:rules", gitlabWorkflowRule)
			}
		case k == "default":
			c.keys(v, "default", gitlabDefault)
		case k == "include":
		case gitlabDeprecated[k] != "":
			c.errorf(p[0], "top level: %q is deprecated by GitLab (%s)", k, gitlabDeprecated[k])
		default:
			jobs[k] = c.keys(v, "job "+k, gitlabJob)
			order = append(order, k)
		}
	}
	for _, name := range order {
		c.job(name, jobs, stages)
	}
}

func (c *gitlabCheck) job(name string, jobs map[string]map[string]*yaml.Node, stages []string) {
	j := jobs[name]
	what := "job " + name
	for _, k := range []string{"script", "before_script", "after_script"} {
		if n, ok := j[k]; ok {
			c.script(n, what+":"+k)
		}
	}
	if !strings.HasPrefix(name, ".") && !hasScript(name, jobs, 0) {
		c.errs = append(c.errs, fmt.Sprintf("%s: %s: no script: (nor trigger:, nor extends: a job with one)", c.file, what))
	}
	if n, ok := j["stage"]; ok && !slices.Contains(stages, n.Value) {
		c.errorf(n, "%s: stage %q is not in stages: %v", what, n.Value, stages)
	}
	for _, k := range []string{"extends", "needs", "dependencies"} {
		if n, ok := j[k]; ok {
			for _, ref := range c.strings(n, what+":"+k) {
				if _, ok := jobs[ref]; !ok {
					c.errorf(n, "%s: %s: no job %q in this file", what, k, ref)
				}
			}
		}
	}
	if n, ok := j["tags"]; ok {
		c.strings(n, what+":tags")
	}
	if n, ok := j["when"]; ok {
		c.oneOf(n, what+":when", gitlabWhen)
	}
	if n, ok := j["timeout"]; ok && n.Kind != yaml.ScalarNode {
		c.errorf(n, "%s:timeout: want a duration such as 3h", what)
	}
	if n, ok := j["rules"]; ok {
		c.rules(n, what+":rules", gitlabJobRule)
	}
	if n, ok := j["variables"]; ok {
		c.variables(n, what+":variables")
	}
	if n, ok := j["parallel"]; ok {
		c.parallel(n, what+":parallel")
	}
	if n, ok := j["artifacts"]; ok {
		a := c.keys(n, what+":artifacts", gitlabArtifacts)
		for _, k := range []string{"paths", "exclude"} {
			if p, ok := a[k]; ok {
				c.strings(p, what+":artifacts:"+k)
			}
		}
		if w, ok := a["when"]; ok {
			c.oneOf(w, what+":artifacts:when", gitlabArtifactsWhen)
		}
		if r, ok := a["reports"]; ok {
			for k, v := range c.keys(r, what+":artifacts:reports", gitlabReports) {
				c.strings(v, what+":artifacts:reports:"+k)
			}
		}
	}
}

func (c *gitlabCheck) parallel(n *yaml.Node, what string) {
	if n.Kind == yaml.ScalarNode {
		if v, err := strconv.Atoi(n.Value); err != nil || v < 1 || v > 200 {
			c.errorf(n, "%s: want 1 to 200 or a matrix:, got %q", what, n.Value)
		}
		return
	}
	m, ok := c.keys(n, what, []string{"matrix"})["matrix"]
	if !ok {
		c.errorf(n, "%s: want matrix:", what)
		return
	}
	if m.Kind != yaml.SequenceNode || len(m.Content) == 0 {
		c.errorf(m, "%s:matrix: want a list of variable maps", what)
		return
	}
	for _, e := range m.Content {
		for _, p := range c.pairs(e, what+":matrix") {
			c.strings(p[1], what+":matrix:"+p[0].Value)
		}
	}
}

// hasScript reports whether job name has a script:, a trigger:, or
// extends a job that has one.
func hasScript(name string, jobs map[string]map[string]*yaml.Node, depth int) bool {
	j, ok := jobs[name]
	if !ok || depth > 10 {
		return false
	}
	if _, ok := j["script"]; ok {
		return true
	}
	if _, ok := j["trigger"]; ok {
		return true
	}
	if e, ok := j["extends"]; ok {
		refs := []string{e.Value}
		if e.Kind == yaml.SequenceNode {
			refs = nil
			for _, r := range e.Content {
				refs = append(refs, r.Value)
			}
		}
		for _, r := range refs {
			if hasScript(r, jobs, depth+1) {
				return true
			}
		}
	}
	return false
}

func checkGitLab(file string, src []byte) []string {
	c := &gitlabCheck{file: file}
	c.check(src)
	return c.errs
}

// TestGitLabPipeline checks gitlab-ci.yml (see the strictness above), and
// what the nightly needs of it: it runs on schedules, one job per board
// tag, and hands GitLab the JUnit reports.
func TestGitLabPipeline(t *testing.T) {
	src, err := os.ReadFile("gitlab-ci.yml")
	require.NoError(t, err)
	assert.Empty(t, checkGitLab("gitlab-ci.yml", src))

	var p struct {
		Workflow struct {
			Rules []map[string]string `yaml:"rules"`
		} `yaml:"workflow"`
		Nightly struct {
			Parallel struct {
				Matrix []map[string][]string `yaml:"matrix"`
			} `yaml:"parallel"`
			Tags      []string `yaml:"tags"`
			Artifacts struct {
				When    string `yaml:"when"`
				Reports struct {
					JUnit []string `yaml:"junit"`
				} `yaml:"reports"`
				Paths []string `yaml:"paths"`
			} `yaml:"artifacts"`
		} `yaml:"nightly"`
	}
	require.NoError(t, yaml.Unmarshal(src, &p))
	assert.Contains(t, p.Workflow.Rules, map[string]string{"if": `$CI_PIPELINE_SOURCE == "schedule"`})
	require.Len(t, p.Nightly.Parallel.Matrix, 1)
	assert.NotEmpty(t, p.Nightly.Parallel.Matrix[0]["BOARD"])
	assert.Equal(t, []string{"$BOARD"}, p.Nightly.Tags, "each board's job runs on the runner tagged with it")
	assert.Equal(t, "always", p.Nightly.Artifacts.When, "reports of a failed night are kept too")
	assert.Equal(t, []string{"junit.xml", "regressions.xml"}, p.Nightly.Artifacts.Reports.JUnit)
	assert.Contains(t, p.Nightly.Artifacts.Paths, "out/", "repro bundles")
	assert.Contains(t, p.Nightly.Artifacts.Paths, "regressions.html")
}

// TestGitLabCheckCatches: each kind of mistake the check claims to find, it
// finds.
func TestGitLabCheckCatches(t *testing.T) {
	good, err := os.ReadFile("gitlab-ci.yml")
	require.NoError(t, err)
	tests := []struct{ name, from, to, want string }{
		{"misspelt job key", "  artifacts:\n", "  artifact:\n", `job nightly: unknown key "artifact"`},
		{"misspelt top-level key", "stages:\n", "stage:\n", "no script:"},
		{"deprecated only", "  stage: validate\n", "  stage: validate\n  only: [schedules]\n", `"only" is deprecated`},
		{"top-level image", "stages:\n", "image: golang\nstages:\n", `top level: "image" is deprecated`},
		{"stage not declared", "  stage: validate\n", "  stage: nightly\n", `stage "nightly" is not in stages`},
		{"artifacts when", "    when: always\n", "    when: allways\n", `"allways" is not one of`},
		{"report kind", "      junit:\n", "      junits:\n", `unknown key "junits"`},
		{"parallel matrix shape", "      - BOARD: [rpi4, coral-usb]\n", "      BOARD: [rpi4, coral-usb]\n", "matrix: want a list"},
		{"workflow rule key", `    - if: $CI_PIPELINE_SOURCE == "web"`, `    - iff: $CI_PIPELINE_SOURCE == "web"`, `workflow:rules: unknown key "iff"`},
		{"needs unknown job", "  stage: validate\n", "  stage: validate\n  needs: [build]\n", `no job "build"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bad := strings.Replace(string(good), tc.from, tc.to, 1)
			require.NotEqual(t, string(good), bad, "the mutation applies")
			errs := checkGitLab("gitlab-ci.yml", []byte(bad))
			assert.Contains(t, strings.Join(errs, "\n"), tc.want)
		})
	}
}
