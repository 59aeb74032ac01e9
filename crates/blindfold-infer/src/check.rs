//! Checks shared by the backends: what goes into the network and what comes
//! out, so a bad shape or a broken runtime becomes an error, never a panic or
//! a silently empty heatmap.

use blindfold::Error;
use blindfold::detect::Tensor4;

/// Reject an input the network cannot take: `[n, 3, H, W]` with `n >= 1` and
/// `H`, `W` positive multiples of 32, and exactly as many values.
pub(crate) fn input(t: &Tensor4) -> Result<(), Error> {
    let [n, c, h, w] = t.shape;
    let bad = |why: &str| {
        Err(Error::Inference(format!(
            "input shape {:?}: {why}",
            t.shape
        )))
    };
    if n == 0 {
        return bad("batch is empty");
    }
    if c != 3 {
        return bad("need 3 channels");
    }
    if h == 0 || w == 0 || h % 32 != 0 || w % 32 != 0 {
        return bad("height and width must be positive multiples of 32");
    }
    let len = n.checked_mul(c * h).and_then(|v| v.checked_mul(w));
    if len != Some(t.data.len()) {
        return bad(&format!("has {} values", t.data.len()));
    }
    Ok(())
}

/// Turn one raw output named `name` into a [`Tensor4`]: four dimensions,
/// the input's batch size, as many values as the shape says, every value
/// finite. What the shape must be beyond that is the model adapter's check.
pub(crate) fn output(
    name: &str,
    input: [usize; 4],
    shape: &[usize],
    data: Vec<f32>,
) -> Result<Tensor4, Error> {
    let Ok(shape4) = <[usize; 4]>::try_from(shape) else {
        return Err(Error::BadOutput(format!(
            "output {name} has shape {shape:?}, expected 4 dimensions"
        )));
    };
    if shape4[0] != input[0] {
        return Err(Error::BadOutput(format!(
            "output {name} has batch {}, expected {}",
            shape4[0], input[0]
        )));
    }
    if shape4.iter().try_fold(1usize, |a, &d| a.checked_mul(d)) != Some(data.len()) {
        return Err(Error::BadOutput(format!(
            "output {name} has {} values for shape {shape:?}",
            data.len()
        )));
    }
    if data.iter().any(|v| !v.is_finite()) {
        return Err(Error::BadOutput(format!(
            "output {name} has non-finite values"
        )));
    }
    Ok(Tensor4 {
        data,
        shape: shape4,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tensor(shape: [usize; 4]) -> Tensor4 {
        Tensor4::zeros(shape)
    }

    #[test]
    fn accepts_good_input() {
        assert!(input(&tensor([1, 3, 32, 64])).is_ok());
        assert!(input(&tensor([4, 3, 480, 640])).is_ok());
    }

    #[test]
    fn rejects_bad_input() {
        for shape in [
            [0, 3, 32, 32],
            [1, 1, 32, 32],
            [1, 3, 30, 32],
            [1, 3, 32, 0],
        ] {
            assert!(
                matches!(input(&tensor(shape)), Err(Error::Inference(_))),
                "{shape:?}"
            );
        }
        let mut t = tensor([1, 3, 32, 32]);
        t.data.pop();
        assert!(matches!(input(&t), Err(Error::Inference(_))));
    }

    #[test]
    fn checks_output() {
        let inp = [2, 3, 64, 32];
        let ok = output("538", inp, &[2, 2, 16, 8], vec![0.5; 2 * 2 * 16 * 8]).unwrap();
        assert_eq!(ok.shape, [2, 2, 16, 8]);
        let bad = |shape: &[usize], data: Vec<f32>| {
            matches!(output("537", inp, shape, data), Err(Error::BadOutput(_)))
        };
        assert!(bad(&[2, 2, 16, 8], vec![0.0; 500]), "too few values");
        assert!(bad(&[2, 1, 16, 8], vec![0.0; 10]), "too few values");
        assert!(bad(&[1, 1, 16, 8], vec![0.0; 128]), "wrong batch");
        assert!(bad(&[2, 16, 8], vec![0.0; 256]), "three dimensions");
        let mut nan = vec![0.0; 256];
        nan[7] = f32::NAN;
        assert!(bad(&[2, 1, 16, 8], nan), "NaN");
    }
}
