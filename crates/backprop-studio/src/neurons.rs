//! The per-neuron thumbnails of a small network (as TensorFlow Playground draws them): what
//! each hidden neuron computes over the plane, on a [`CELLS`] × [`CELLS`] grid, each neuron
//! shaded over its own range.

use backprop::{Architecture, Network, Workspace};
use backprop_data::plane::{self, PlaneFeature};

/// Cells per side of a neuron's thumbnail.
pub const CELLS: usize = 16;
/// The most hidden neurons, all layers together, that get thumbnails (the playground's
/// largest network, 6 layers of 8, has 48).
pub const MAX_NEURONS: usize = 64;

/// The grid's network inputs and the buffers of its forward pass, made once per run.
pub struct NeuronGrid {
    inputs: Vec<f32>,
    workspace: Workspace<f32>,
    outputs: Vec<f32>,
}

impl NeuronGrid {
    /// The thumbnails' grid for `architecture` over `[−extent, extent]²` expanded into
    /// `features`; `None` for a network of more than [`MAX_NEURONS`] hidden neurons.
    pub fn new(
        architecture: &Architecture,
        features: &[PlaneFeature],
        extent: f64,
    ) -> Option<Self> {
        let neurons: usize = architecture.hidden.iter().map(|l| l.units).sum();
        if neurons > MAX_NEURONS {
            return None;
        }
        let cells = CELLS * CELLS;
        Some(Self {
            inputs: plane::expand(&plane::grid(CELLS, extent), features),
            workspace: Workspace::for_inference(architecture, cells),
            outputs: vec![0.0; cells * architecture.outputs],
        })
    }

    /// Per hidden layer, per neuron, its shades on the grid (row-major from the top left).
    pub fn shades(&mut self, network: &Network<f32>) -> Vec<Vec<Vec<u8>>> {
        let cells = CELLS * CELLS;
        network.predict_into(&self.inputs, cells, &mut self.workspace, &mut self.outputs);
        network
            .architecture()
            .hidden
            .iter()
            .enumerate()
            .map(|(layer, hidden)| {
                plane::unit_shades(
                    self.workspace.hidden_activations(layer, cells),
                    hidden.units,
                )
            })
            .collect()
    }
}
