"""What a layer answers about the nodes it was called on (functional API): `input`,
`output`, their shapes, and `get_input_at(node_index)` and the like for a layer called
more than once. `Layer` inherits it; it reads only `self._inbound_nodes` and `self.name`.
"""

__all__ = ["NodeAccessors"]


class NodeAccessors:
    """The `input` / `output` properties and `get_*_at` methods of a called layer."""

    def _node_attr(self, attr, index, attr_name):
        if not self._inbound_nodes:
            raise AttributeError(
                f'The layer "{self.name}" has never been called and thus has no defined '
                f"{attr_name}.")
        if not 0 <= index < len(self._inbound_nodes):
            raise ValueError(
                f"Asked to get {attr_name} at node {index}, but the layer has only "
                f"{len(self._inbound_nodes)} inbound nodes.")
        values = getattr(self._inbound_nodes[index], attr)
        return values

    def _unique_attr(self, attr, attr_name):
        if not self._inbound_nodes:
            raise AttributeError(
                f'The layer "{self.name}" has never been called and thus has no defined '
                f"{attr_name}.")
        values = [getattr(n, attr) for n in self._inbound_nodes]
        if attr.endswith("shapes"):
            if all(v == values[0] for v in values):
                return values[0]
            raise AttributeError(
                f'The layer "{self.name}" has multiple inbound nodes with different '
                f"{attr_name}s. Hence the notion of \"{attr_name}\" is ill-defined for the "
                f"layer. Use `get_{attr_name.replace(' ', '_')}_at(node_index)` instead.")
        if len(values) > 1:
            raise AttributeError(
                f'Layer "{self.name}" has multiple inbound nodes, hence the notion of '
                f'"layer {attr_name}" is ill-defined. Use `get_{attr_name}_at(node_index)` '
                "instead.")
        return values[0]

    @property
    def input(self):
        return self._unique_attr("input_tensors", "input")

    @property
    def output(self):
        return self._unique_attr("output_tensors", "output")

    @property
    def input_shape(self):
        return self._unique_attr("input_shapes", "input shape")

    @property
    def output_shape(self):
        return self._unique_attr("output_shapes", "output shape")

    @property
    def input_mask(self):
        return None

    def get_input_at(self, node_index):
        return self._node_attr("input_tensors", node_index, "input")

    def get_output_at(self, node_index):
        return self._node_attr("output_tensors", node_index, "output")

    def get_input_shape_at(self, node_index):
        return self._node_attr("input_shapes", node_index, "input shape")

    def get_output_shape_at(self, node_index):
        return self._node_attr("output_shapes", node_index, "output shape")
