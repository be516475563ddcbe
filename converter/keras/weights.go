package keras

import (
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/edgeval/edgeval/internal/hdf5"
	"github.com/edgeval/edgeval/tensor"
)

// weightStore finds the variables of a layer, given its path of layer
// names from the top model (nested layers have several) and the model that
// holds it. It returns them by variable name ("kernel", "bias", "gamma",
// ...), converted to float32: exactly the variables varOrder names, so that
// a variable the mapping would not read is never handed out. unused then
// lists every weight of the file that no weights call handed out.
type weightStore interface {
	weights(layerPath []string, l *Layer, owner *Model) (map[string]*tensor.Tensor, error)
	unused() ([]string, error)
}

// Limits on walking a hostile file's groups for unused weights.
const (
	maxWeightDepth   = 32
	maxWeightEntries = 1 << 20
)

// weightSet is the weights of a file, by HDF5 path without the leading "/".
type weightSet map[string]bool

func (w weightSet) add(p string) { w[strings.TrimPrefix(p, "/")] = true }

// collect adds every dataset under group g (recursively).
func (w weightSet) collect(f hdf5.Reader, g string, depth int) error {
	if depth > maxWeightDepth {
		return fmt.Errorf("groups nested more than %d deep under %s", maxWeightDepth, g)
	}
	entries, err := f.List(g)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if len(w) > maxWeightEntries {
			return fmt.Errorf("more than %d weights in the file", maxWeightEntries)
		}
		p := path.Join(g, e.Name)
		switch e.Kind {
		case hdf5.KindDataset:
			w.add(p)
		case hdf5.KindGroup:
			if err := w.collect(f, p, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// minus returns the paths of w that used does not hold, sorted.
func (w weightSet) minus(used weightSet) []string {
	var out []string
	for p := range w {
		if !used[p] {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// optimizerGroups are the top-level groups of the optimizer's state, which
// Load never reads (SnapshotOptions leaves them out too).
var optimizerGroups = []string{"optimizer_weights", "optimizer"}

// varOrder is the creation order of each class's variables: how Keras 3
// numbers them under vars/ and the names used for them here.
func varOrder(l *Layer) []string {
	switch p := l.Params.(type) {
	case *DenseConfig:
		return withBias([]string{"kernel"}, p.UseBias)
	case *ConvConfig:
		if strings.HasPrefix(l.Class, "Separable") {
			return withBias([]string{"depthwise_kernel", "pointwise_kernel"}, p.UseBias)
		}
		return withBias([]string{"kernel"}, p.UseBias)
	case *BatchNormConfig:
		var v []string
		if p.Scale {
			v = append(v, "gamma")
		}
		if p.Center {
			v = append(v, "beta")
		}
		return append(v, "moving_mean", "moving_variance")
	case *LayerNormConfig:
		var v []string
		if p.Scale {
			v = append(v, "gamma")
		}
		if p.Center {
			v = append(v, "beta")
		}
		return v
	case *PReLUConfig:
		return []string{"alpha"}
	case *NormalizationConfig:
		if p.Mean == nil {
			return []string{"mean", "variance", "count"}
		}
		return nil
	case *LayerScaleConfig:
		return []string{"gamma"}
	case *EmbeddingConfig:
		return []string{"embeddings"}
	case *AttentionConfig:
		var v []string
		for _, s := range attentionSublayers {
			v = append(v, s+"/kernel")
			if p.UseBias {
				v = append(v, s+"/bias")
			}
		}
		return v
	case *RecurrentConfig:
		return recurrentVars(p, "")
	case *BidirectionalConfig:
		if p.Forward == nil || p.Backward == nil {
			return nil
		}
		return append(recurrentVars(p.Forward, forwardPrefix), recurrentVars(p.Backward, backwardPrefix)...)
	}
	return nil
}

// attentionSublayers are MultiHeadAttention's projections in creation
// order: the names of the EinsumDense layers that hold its variables
// ("query/kernel", "query/bias", ...).
var attentionSublayers = []string{"query", "key", "value", "attention_output"}

// varDepth is how many trailing components of a stored weight's path name
// the variable: 2 for a layer whose variables belong to its own sublayers
// (MultiHeadAttention's "query/kernel"), 1 otherwise.
func varDepth(l *Layer) int {
	if _, ok := l.Params.(*AttentionConfig); ok {
		return 2
	}
	return 1
}

func withBias(v []string, bias bool) []string {
	if bias {
		return append(v, "bias")
	}
	return v
}

// varName normalises a stored weight name to its variable name:
// "conv2d_1/kernel:0" → "kernel"; Keras 2 depthwise kernels are
// "depthwise_kernel" and become "kernel", Keras 3 LayerScale's "variable"
// becomes "gamma"; a sublayer's variable keeps the sublayer:
// "mha/query/kernel:0" → "query/kernel".
func varName(full string, l *Layer) string {
	n := path.Base(full)
	if i := strings.LastIndexByte(n, ':'); i >= 0 {
		n = n[:i]
	}
	if l.Keras1 != "" {
		v, _ := keras1WeightName(n, l)
		return v
	}
	if varDepth(l) == 2 {
		return path.Base(path.Dir(full)) + "/" + n
	}
	if n == "depthwise_kernel" && strings.HasPrefix(l.Class, "Depthwise") {
		n = "kernel"
	}
	if n == "variable" && l.Class == "LayerScale" {
		// Keras 3's LayerScale creates its one weight without a name:
		// its legacy .h5 calls gamma "variable" (tf_keras's "gamma").
		n = "gamma"
	}
	if _, ok := l.Params.(*BidirectionalConfig); ok {
		// "bidirectional/forward_lstm/lstm_cell/kernel:0": the wrapped
		// layer's name tells the direction.
		parts := strings.Split(full, "/")
		if len(parts) < 3 {
			return ""
		}
		switch d := parts[len(parts)-3]; {
		case strings.HasPrefix(d, "forward_"):
			return forwardPrefix + n
		case strings.HasPrefix(d, "backward_"):
			return backwardPrefix + n
		}
		return ""
	}
	return n
}

// ownerDepth is where, counting from the end of a stored weight name, the
// name of the layer owning it is: "dense/kernel:0" (2), a sublayer's
// "mha/query/kernel:0" (3, see varDepth), a recurrent layer's
// "lstm/lstm_cell/kernel:0" (3), a Bidirectional's
// "bidirectional/forward_lstm/lstm_cell/kernel:0" (4).
func ownerDepth(l *Layer) int {
	switch l.Params.(type) {
	case *RecurrentConfig:
		return 3
	case *BidirectionalConfig:
		return 4
	}
	return varDepth(l) + 1
}

func toFloat32(t *tensor.Tensor) *tensor.Tensor {
	if t.DType == tensor.Float32 {
		return t
	}
	return tensor.FromFloat32(t.Shape, t.Float32s())
}

// legacyStore reads the Keras 2 layout (also written by Keras 3 for .h5):
// group root/<layer> with attribute weight_names, datasets at
// root/<layer>/<weight name>.
type legacyStore struct {
	f    hdf5.Reader
	root string // "model_weights" or "/" (save_weights)
	used weightSet
}

func (s *legacyStore) weights(layerPath []string, l *Layer, _ *Model) (map[string]*tensor.Tensor, error) {
	want := varOrder(l)
	if len(want) == 0 {
		return nil, nil
	}
	group := path.Join(s.root, layerPath[0])
	if !s.f.Exists(group) {
		return nil, fmt.Errorf("no weights group %s in the file", group)
	}
	names, err := s.f.AttrStrings(group, "weight_names")
	if err != nil {
		return nil, err
	}
	out := map[string]*tensor.Tensor{}
	for _, full := range names {
		if len(layerPath) > 1 {
			// A nested layer: keep the weights whose owner component is
			// the layer's name.
			parts := strings.Split(full, "/")
			owner := len(parts) - ownerDepth(l)
			if owner < 0 || parts[owner] != layerPath[len(layerPath)-1] {
				continue
			}
		}
		v := varName(full, l)
		if err := keras1Backend(l, v, full); err != nil {
			return nil, err
		}
		if !slices.Contains(want, v) {
			// Not a variable of this class: left unused (reported).
			continue
		}
		if _, dup := out[v]; dup {
			return nil, fmt.Errorf("weight %q appears twice in %s", v, group)
		}
		p := path.Join(group, full)
		t, err := s.f.ReadDataset(p)
		if err != nil {
			return nil, err
		}
		out[v] = toFloat32(t)
		if s.used == nil {
			s.used = weightSet{}
		}
		s.used.add(p)
	}
	return out, nil
}

// unused lists the weights no layer read: every name in the weight_names
// attribute of a group under the root, and every dataset below one, that
// no weights call returned. A layer of the file that the configuration
// does not have, or a variable a layer does not use, ends up here.
func (s *legacyStore) unused() ([]string, error) {
	entries, err := s.f.List(s.root)
	if err != nil {
		return nil, err
	}
	all := weightSet{}
	for _, e := range entries {
		g := path.Join(s.root, e.Name)
		switch {
		case s.root == "/" && slices.Contains(optimizerGroups, e.Name):
			continue
		case e.Kind == hdf5.KindDataset:
			all.add(g)
			continue
		case e.Kind != hdf5.KindGroup:
			continue
		}
		if s.f.HasAttr(g, "weight_names") {
			names, err := s.f.AttrStrings(g, "weight_names")
			if err != nil {
				return nil, err
			}
			for _, n := range names {
				all.add(path.Join(g, n))
			}
		}
		if err := all.collect(s.f, g, 1); err != nil {
			return nil, err
		}
	}
	return all.minus(s.used), nil
}

// k3Store reads the Keras 3 weights file of a .keras archive:
// layers/<snake_case class name, deduplicated>/vars/<i>, nested models
// under layers/<name>/layers/....
type k3Store struct {
	f hdf5.Reader
	// groups maps a layer path (names joined by "/") to its vars group.
	groups map[string]string
	used   weightSet
}

var (
	snakeRe1 = regexp.MustCompile(`(.)([A-Z][a-z]+)`)
	snakeRe2 = regexp.MustCompile(`([a-z])([A-Z])`)
	nonWord  = regexp.MustCompile(`\W+`)
)

// snakeCase is Keras's naming.to_snake_case.
func snakeCase(s string) string {
	s = nonWord.ReplaceAllString(s, "")
	s = snakeRe1.ReplaceAllString(s, "${1}_${2}")
	return strings.ToLower(snakeRe2.ReplaceAllString(s, "${1}_${2}"))
}

// savedLayers returns the layers Keras 3 saves for a model, in order:
// Sequential.layers leaves out the InputLayer.
func savedLayers(m *Model) []*Layer {
	if m.Class != "Sequential" {
		return m.Layers
	}
	return slices.DeleteFunc(slices.Clone(m.Layers), func(l *Layer) bool { return l.Class == "InputLayer" })
}

func newK3Store(f hdf5.Reader, m *Model) (*k3Store, error) {
	s := &k3Store{f: f, groups: map[string]string{}, used: weightSet{}}
	if err := s.index(m, "/", ""); err != nil {
		return nil, err
	}
	return s, nil
}

// index maps the layers of model m, saved under group base, to their vars
// groups: by the "name" attribute newer Keras versions write, otherwise by
// Keras's own naming (snake_case class name, _1, _2... for repeats).
func (s *k3Store) index(m *Model, base, prefix string) error {
	byAttr := map[string]string{}
	if entries, err := s.f.List(path.Join(base, "layers")); err == nil {
		for _, e := range entries {
			vars := path.Join(base, "layers", e.Name, "vars")
			if n, err := s.f.AttrString(vars, "name"); err == nil {
				byAttr[n] = path.Join(base, "layers", e.Name)
			}
		}
	}
	used := map[string]int{}
	for _, l := range savedLayers(m) {
		n := snakeCase(l.Class)
		if k, ok := used[n]; ok {
			used[n] = k + 1
			n = fmt.Sprintf("%s_%d", n, k+1)
		} else {
			used[n] = 0
		}
		g := path.Join(base, "layers", n)
		if a, ok := byAttr[l.Name]; ok {
			g = a
		}
		key := prefix + l.Name
		s.groups[key] = g
		if l.Model != nil {
			if err := s.index(l.Model, g, key+"/"); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *k3Store) weights(layerPath []string, l *Layer, _ *Model) (map[string]*tensor.Tensor, error) {
	want := varOrder(l)
	if len(want) == 0 {
		return nil, nil
	}
	g, ok := s.groups[strings.Join(layerPath, "/")]
	if !ok {
		return nil, fmt.Errorf("no weights group for the layer")
	}
	if varDepth(l) == 2 {
		return s.sublayerWeights(g, want)
	}
	out := map[string]*tensor.Tensor{}
	for _, vg := range k3VarGroups(l, want) {
		got, err := s.numbered(path.Join(g, vg.dir), vg.names)
		if err != nil {
			return nil, err
		}
		maps.Copy(out, got)
	}
	return out, nil
}

// k3VarGroup is a group of numbered variables and their names.
type k3VarGroup struct {
	dir   string // under the layer's group
	names []string
}

// k3VarGroups returns where Keras 3 saves a layer's variables: vars/ of
// the layer; a recurrent layer's under cell/vars/ (its cell is a
// sublayer); a Bidirectional's under forward_layer/cell/vars/ and
// backward_layer/cell/vars/.
func k3VarGroups(l *Layer, want []string) []k3VarGroup {
	switch p := l.Params.(type) {
	case *RecurrentConfig:
		return []k3VarGroup{{"cell/vars", want}}
	case *BidirectionalConfig:
		nf := len(recurrentVars(p.Forward, ""))
		return []k3VarGroup{{"forward_layer/cell/vars", want[:nf]}, {"backward_layer/cell/vars", want[nf:]}}
	}
	return []k3VarGroup{{"vars", want}}
}

// numbered reads the variables numbered 0, 1, ... of a vars group as the
// names want, in order.
func (s *k3Store) numbered(vars string, want []string) (map[string]*tensor.Tensor, error) {
	entries, err := s.f.List(vars)
	if err != nil {
		return nil, err
	}
	// Variables are numbered 0, 1, ... in creation order; a dataset with
	// another name is no variable and stays unused (reported).
	type numbered struct {
		i    int
		name string
	}
	var idx []numbered
	for _, e := range entries {
		i, err := strconv.Atoi(e.Name)
		if err != nil || e.Kind != hdf5.KindDataset || strconv.Itoa(i) != e.Name {
			continue
		}
		idx = append(idx, numbered{i, e.Name})
	}
	slices.SortFunc(idx, func(a, b numbered) int { return a.i - b.i })
	// Keras 3 itself refuses a count that differs from the layer's
	// variables: which one would be extra cannot be told.
	if len(idx) != len(want) {
		return nil, fmt.Errorf("%s holds %d variables, want %d (%s)", vars, len(idx), len(want), strings.Join(want, ", "))
	}
	out := map[string]*tensor.Tensor{}
	for k, n := range idx {
		p := path.Join(vars, n.name)
		t, err := s.f.ReadDataset(p)
		if err != nil {
			return nil, err
		}
		out[want[k]] = toFloat32(t)
		s.used.add(p)
	}
	return out, nil
}

// attentionGroups are the groups Keras 3 saves MultiHeadAttention's
// projections under (its attribute names), by sublayer name.
var attentionGroups = map[string]string{"query": "query_dense", "key": "key_dense",
	"value": "value_dense", "attention_output": "output_dense"}

// sublayerWeights reads the variables of a layer whose variables belong
// to its sublayers (want holds "sublayer/variable" names): each
// sublayer's group under g is found by the name its vars group records,
// else by the layer's attribute name (Keras 3: query_dense; tf_keras's
// .weights.h5: _query_dense), and its numbered variables are read in
// order. The layer's own vars group must hold none.
func (s *k3Store) sublayerWeights(g string, want []string) (map[string]*tensor.Tensor, error) {
	byAttr := map[string]string{}
	if entries, err := s.f.List(g); err == nil {
		for _, e := range entries {
			if e.Kind != hdf5.KindGroup || e.Name == "vars" {
				continue
			}
			if n, err := s.f.AttrString(path.Join(g, e.Name, "vars"), "name"); err == nil {
				byAttr[n] = path.Join(g, e.Name)
			}
		}
	}
	if s.f.Exists(path.Join(g, "vars")) {
		if _, err := s.numbered(path.Join(g, "vars"), nil); err != nil {
			return nil, err
		}
	}
	var order []string
	vars := map[string][]string{}
	for _, w := range want {
		sub, v := path.Dir(w), path.Base(w)
		if _, ok := vars[sub]; !ok {
			order = append(order, sub)
		}
		vars[sub] = append(vars[sub], v)
	}
	out := map[string]*tensor.Tensor{}
	for _, sub := range order {
		sg, ok := byAttr[sub]
		if !ok {
			// Keras 3 names the group after the attribute without its
			// underscore, tf_keras's .weights.h5 with it.
			var found []string
			for _, n := range []string{attentionGroups[sub], "_" + attentionGroups[sub]} {
				if s.f.Exists(path.Join(g, n, "vars")) {
					found = append(found, path.Join(g, n))
				}
			}
			if len(found) != 1 {
				return nil, fmt.Errorf("no weights group for sublayer %q under %s (found %d of %s and _%s)", sub, g, len(found), attentionGroups[sub], attentionGroups[sub])
			}
			sg = found[0]
		}
		got, err := s.numbered(path.Join(sg, "vars"), vars[sub])
		if err != nil {
			return nil, err
		}
		for v, t := range got {
			out[sub+"/"+v] = t
		}
	}
	return out, nil
}

// unused lists every dataset of the weights file, outside the optimizer's
// state, that no weights call returned: the variables of a layer the
// configuration does not have (or of a class that has none), and any
// dataset that is not a numbered variable.
func (s *k3Store) unused() ([]string, error) {
	entries, err := s.f.List("/")
	if err != nil {
		return nil, err
	}
	all := weightSet{}
	for _, e := range entries {
		p := path.Join("/", e.Name)
		switch {
		case slices.Contains(optimizerGroups, e.Name):
		case e.Kind == hdf5.KindDataset:
			all.add(p)
		case e.Kind == hdf5.KindGroup:
			if err := all.collect(s.f, p, 1); err != nil {
				return nil, err
			}
		}
	}
	return all.minus(s.used), nil
}
