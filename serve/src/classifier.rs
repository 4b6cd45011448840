//! What the service needs of a model, and the engine's [`Predictor`] giving it.

use dialect::{EngineError, Prediction, Predictor};

/// What the service needs of a model: its classes, its routing threshold, and
/// predictions for a batch of texts (blocking: the service calls it off the async
/// threads). [`Predictor`] is the one real model.
pub trait Classifier: Send + Sync + 'static {
    /// Class names in output order.
    fn labels(&self) -> &[String];
    /// The top probability below which a ticket is routed to a person, if any.
    fn threshold(&self) -> Option<f64>;
    /// The precision predictions are computed in (`f32`, `int8`).
    fn precision(&self) -> &'static str;
    /// A prediction for each text, in order.
    fn classify(&self, texts: &[String]) -> Result<Vec<Prediction>, EngineError>;
}

impl Classifier for Predictor {
    fn labels(&self) -> &[String] {
        Predictor::labels(self)
    }

    fn threshold(&self) -> Option<f64> {
        Predictor::threshold(self)
    }

    fn precision(&self) -> &'static str {
        Predictor::precision(self).name()
    }

    fn classify(&self, texts: &[String]) -> Result<Vec<Prediction>, EngineError> {
        self.predict(texts)
    }
}
