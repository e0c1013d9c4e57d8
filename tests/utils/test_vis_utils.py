"""jkeras.utils.model_to_dot / plot_model: the graph's nodes, labels and edges (Keras 2's
record labels), nested models as clusters, and clear errors when pydot or Graphviz's
`dot` program is missing. Drawing a PNG is tested only where `dot` is installed."""
import shutil
import sys

import pydot  # noqa: F401 -- model_to_dot draws with it (the test extra installs it)
import pytest

import jkeras
from jkeras import layers
from jkeras.utils import model_to_dot, plot_model


def _unquote(name):
    return name.strip('"')


def _graph(dot):
    """{node name: label} over the graph and its clusters, and the edges as label pairs."""
    labels, raw_edges = {}, []

    def collect(graph):
        for node in graph.get_nodes():
            if node.get("label") is not None:
                labels[_unquote(node.get_name())] = node.get("label").strip('"')
        raw_edges.extend(graph.get_edges())
        for sub in graph.get_subgraphs():
            collect(sub)
    collect(dot)
    short = {name: label.split("\n")[0] for name, label in labels.items()}
    edges = {(short[_unquote(e.get_source())], short[_unquote(e.get_destination())])
             for e in raw_edges}
    return labels, edges


def _two_branch():
    a, b = jkeras.Input((4,), name="a"), jkeras.Input((3,), name="b")
    x = layers.concatenate([layers.Dense(2, name="d1")(a), b], name="cat")
    return jkeras.Model([a, b], layers.Dense(1, name="out")(x))


def test_functional_graph_nodes_edges_and_options():
    dot = model_to_dot(_two_branch(), rankdir="LR", dpi=72)
    labels, edges = _graph(dot)
    assert sorted(labels.values()) == ["a: InputLayer", "b: InputLayer", "cat: Concatenate",
                                       "d1: Dense", "out: Dense"]
    assert edges == {("a: InputLayer", "d1: Dense"), ("d1: Dense", "cat: Concatenate"),
                     ("b: InputLayer", "cat: Concatenate"), ("cat: Concatenate", "out: Dense")}
    assert dot.get("rankdir") == "LR" and str(dot.get("dpi")) == "72"
    source = dot.to_string()
    assert "digraph" in source and "shape=record" in source


def test_shapes_as_keras2_records_and_names_optional():
    labels, _ = _graph(model_to_dot(_two_branch(), show_shapes=True,
                                    show_layer_names=False))
    assert "Concatenate\n|{input:|output:}|{{[(None, 2), (None, 3)]}|{(None, 5)}}" in \
        labels.values()
    assert "InputLayer\n|{input:|output:}|{{(None, 4)}|{(None, 4)}}" in labels.values()


def test_sequential_is_a_chain_from_its_input():
    model = jkeras.Sequential([jkeras.Input((4,)), layers.Dense(3, name="h"),
                               layers.Dense(2, name="o")], name="seq")
    labels, edges = _graph(model_to_dot(model))
    input_label = next(v for v in labels.values() if v.endswith(": InputLayer"))
    assert edges == {(input_label, "h: Dense"), ("h: Dense", "o: Dense")}


def test_expand_nested_draws_clusters():
    inner_in = jkeras.Input((4,), name="inner_in")
    inner = jkeras.Model(inner_in, layers.Dense(2, name="inner_dense")(inner_in), name="inner")
    x = jkeras.Input((4,), name="x")
    model = jkeras.Model(x, layers.Dense(1, name="head")(inner(x)))
    labels, edges = _graph(model_to_dot(model))
    assert "inner: Functional" in labels.values()
    dot = model_to_dot(model, expand_nested=True)
    assert [s.get_name() for s in dot.get_subgraphs()] == ["cluster_inner"]
    labels, edges = _graph(dot)
    assert "inner: Functional" not in labels.values()
    assert edges == {("x: InputLayer", "inner_in: InputLayer"),
                     ("inner_in: InputLayer", "inner_dense: Dense"),
                     ("inner_dense: Dense", "head: Dense")}


def test_wrapped_model_label_and_expansion():
    step_in = jkeras.Input((3,), name="step_in")
    step = jkeras.Model(step_in, layers.Dense(2, name="step_dense")(step_in), name="step")
    seq_in = jkeras.Input((5, 3), name="seq_in")
    model = jkeras.Model(seq_in, layers.TimeDistributed(step, name="td")(seq_in))
    labels, _ = _graph(model_to_dot(model))
    assert "td(step): TimeDistributed(Functional)" in labels.values()
    labels, edges = _graph(model_to_dot(model, expand_nested=True))
    assert ("td: TimeDistributed", "step_in: InputLayer") in edges
    assert ("seq_in: InputLayer", "td: TimeDistributed") in edges


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="rankdir.*Received: rankdir='XY'"):
        model_to_dot(_two_branch(), rankdir="XY")
    with pytest.raises(ValueError, match="dpi"):
        model_to_dot(_two_branch(), dpi=0)


def test_missing_pydot_names_the_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "pydot", None)
    with pytest.raises(ImportError, match="pip install pydot"):
        model_to_dot(_two_branch())
    with pytest.raises(ImportError, match="pydot"):
        plot_model(_two_branch())


def test_missing_graphviz_names_it_and_writes_nothing(monkeypatch, tmp_path):
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    target = tmp_path / "model.png"
    with pytest.raises(OSError, match="Graphviz.*`dot` program"):  # Keras 2.3's type
        plot_model(_two_branch(), to_file=str(target))
    assert not target.exists()
    assert model_to_dot(_two_branch()) is not None   # no program needed


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's `dot` is not installed")
def test_plot_model_writes_a_png(tmp_path):
    target = tmp_path / "model.png"
    plot_model(_two_branch(), to_file=str(target), show_shapes=True, dpi=48)
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
