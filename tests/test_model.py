"""Tests for linreg.model: the LinearModel and predict."""

from __future__ import annotations

import pytest
import torch

import linreg
from linreg import LinearModel, predict


@pytest.mark.parametrize("seed", [0, 1, 42])
def test_default_model_draws_the_lessons_initial_weights(seed):
    # The lesson builds torch.nn.Linear(1, 1) after seeding; ours must draw the same.
    torch.manual_seed(seed)
    lesson = torch.nn.Linear(1, 1)
    torch.manual_seed(seed)
    model = LinearModel()
    assert torch.equal(model.linear.weight, lesson.weight)
    assert torch.equal(model.linear.bias, lesson.bias)


@pytest.mark.parametrize(("in_features", "out_features"), [(1, 1), (3, 1), (2, 4)])
def test_model_initialisation_matches_nn_linear_of_same_size(in_features, out_features):
    torch.manual_seed(7)
    layer = torch.nn.Linear(in_features, out_features)
    torch.manual_seed(7)
    model = LinearModel(in_features, out_features)
    assert model.linear.weight.shape == (out_features, in_features)
    assert model.linear.bias.shape == (out_features,)
    assert torch.equal(model.linear.weight, layer.weight)
    assert torch.equal(model.linear.bias, layer.bias)


@pytest.mark.parametrize(("in_features", "out_features"), [(1, 1), (3, 2)])
def test_forward_is_x_times_weight_transposed_plus_bias(in_features, out_features):
    torch.manual_seed(3)
    model = LinearModel(in_features, out_features)
    x = torch.randn(5, in_features)
    expected = x @ model.linear.weight.T + model.linear.bias
    result = model(x)
    assert result.shape == (5, out_features)
    torch.testing.assert_close(result, expected)


def test_forward_records_gradients_for_training():
    # Training needs the graph; only predict() drops it.
    model = LinearModel()
    assert model(torch.tensor([[1.0]])).requires_grad


def line_model(weight=2.0, bias=0.5, dtype=torch.float32):
    model = LinearModel().to(dtype)
    with torch.no_grad():
        model.linear.weight.fill_(weight)
        model.linear.bias.fill_(bias)
    return model


@pytest.mark.parametrize(
    ("x", "expected_inputs"),
    [
        (4.0, [[4.0]]),
        (3, [[3.0]]),
        ([1.0, 2.0, 3.0], [[1.0], [2.0], [3.0]]),
        ((0.5, -1.0), [[0.5], [-1.0]]),
        (torch.tensor([[1.0], [5.0]]), [[1.0], [5.0]]),
    ],
)
def test_predict_accepts_number_list_and_column_tensor(x, expected_inputs):
    model = line_model()
    result = predict(model, x)
    inputs = torch.tensor(expected_inputs)
    assert result.shape == (len(expected_inputs), 1)
    torch.testing.assert_close(result, model(inputs).detach())
    torch.testing.assert_close(result, 2.0 * inputs + 0.5)


def test_predict_records_no_gradient():
    model = line_model()
    assert model.linear.weight.requires_grad
    result = predict(model, torch.tensor([[1.0], [2.0]]))
    assert not result.requires_grad
    assert result.grad_fn is None


def test_predict_with_several_features_and_outputs():
    torch.manual_seed(0)
    model = LinearModel(3, 2)
    x = torch.randn(4, 3)
    result = predict(model, x)
    assert result.shape == (4, 2)
    torch.testing.assert_close(result, x @ model.linear.weight.T + model.linear.bias)
    # A list of rows works too.
    torch.testing.assert_close(predict(model, x.tolist()), result)


def test_predict_follows_the_models_dtype():
    model = line_model(dtype=torch.float64)
    result = predict(model, [1.0, 2.0])
    assert result.dtype == torch.float64
    torch.testing.assert_close(result, torch.tensor([[2.5], [4.5]], dtype=torch.float64))


@pytest.mark.parametrize("x", [torch.ones(4, 2), [[1.0, 2.0]]])
def test_predict_wrong_number_of_features(x):
    with pytest.raises(linreg.LinregError, match=r"expects 1 input feature"):
        predict(line_model(), x)


def test_predict_too_few_features_for_wide_model():
    with pytest.raises(linreg.LinregError, match=r"expects 3 input feature"):
        predict(LinearModel(3), torch.ones(2, 2))


def test_predict_one_dimensional_tensor_says_reshape():
    with pytest.raises(linreg.LinregError, match=r"reshape\(-1, 1\)"):
        predict(line_model(), torch.tensor([1.0, 2.0, 3.0]))


@pytest.mark.parametrize(
    "x",
    [
        torch.tensor([[1.0], [float("nan")]]),
        torch.tensor([[float("inf")]]),
        float("nan"),
        [1.0, float("-inf")],
    ],
)
def test_predict_refuses_nan_and_inf(x):
    with pytest.raises(linreg.LinregError, match="NaN or inf"):
        predict(line_model(), x)


def test_predict_refuses_integer_tensor():
    with pytest.raises(linreg.LinregError, match="floating point"):
        predict(line_model(), torch.tensor([[1], [2]]))


@pytest.mark.parametrize(
    ("x_dtype", "model_dtype"), [(torch.float64, torch.float32), (torch.float32, torch.float64)]
)
def test_predict_refuses_other_float_dtype(x_dtype, model_dtype):
    x = torch.tensor([[1.0]], dtype=x_dtype)
    with pytest.raises(linreg.LinregError, match=r"x\.to\(torch\.float"):
        predict(line_model(dtype=model_dtype), x)


def test_predict_refuses_model_without_weight_matrix():
    with pytest.raises(linreg.LinregError, match="no weight matrix"):
        predict(torch.nn.ReLU(), torch.ones(1, 1))
