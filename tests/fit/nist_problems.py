"""The 27 NIST StRD nonlinear-regression problems as generic models of the fitting engine.

Each problem is a model function and its analytic Jacobian written for the
engine's curves-last layout (x is (L, m), each parameter an (m,) array; Nelson
has two predictors, x[0] = x1 and x[1] = x2). :func:`load` reads a problem's
data from the NIST ``.dat`` file and its certified values from
``certified.json`` (see ``shared/reference/doseresp/README.md``);
:func:`fit_problem` fits it through :func:`killcurve.fit.engine.fit_batch`;
:func:`polish_problem` polishes that fit in long double from the file's decimal
strings (:func:`killcurve.fit.polish.polish_extended`), which certifies RSS
and SEs that float64 cannot resolve (Lanczos1); :func:`lre` is the log
relative error used by NIST and lmfit.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from killcurve.fit.engine import FitResult, Settings, fit_batch
from killcurve.fit.models import Model, generic_model
from killcurve.fit.polish import Polished, polish_extended

Array = np.ndarray
Func = Callable[..., Array]
Jac = Callable[..., Sequence[Array]]

#: The engine settings used for the NIST problems: tight tolerances and the SVD step.
NIST_SETTINGS = Settings(
    ftol=1e-15, xtol=1e-15, gtol=1e-15, max_iter=20000, solver="svd", fallback_nfev=5000
)


def _exp_rise(x: Array, b1: Array, b2: Array) -> Array:
    return b1 * (1 - np.exp(-b2 * x))


def _exp_rise_jac(x: Array, b1: Array, b2: Array) -> list[Array]:
    e = np.exp(-b2 * x)
    return [1 - e, b1 * x * e]


def _chwirut(x: Array, b1: Array, b2: Array, b3: Array) -> Array:
    return np.exp(-b1 * x) / (b2 + b3 * x)


def _chwirut_jac(x: Array, b1: Array, b2: Array, b3: Array) -> list[Array]:
    y, d = np.exp(-b1 * x) / (b2 + b3 * x), b2 + b3 * x
    return [-x * y, -y / d, -x * y / d]


def _danwood(x: Array, b1: Array, b2: Array) -> Array:
    return b1 * x**b2


def _danwood_jac(x: Array, b1: Array, b2: Array) -> list[Array]:
    return [x**b2, b1 * x**b2 * np.log(x)]


_ENSO_PARAMS = 9


def _enso(x: Array, *b: Array) -> Array:
    a = 2 * np.pi * x
    return (
        b[0]
        + b[1] * np.cos(a / 12)
        + b[2] * np.sin(a / 12)
        + b[4] * np.cos(a / b[3])
        + b[5] * np.sin(a / b[3])
        + b[7] * np.cos(a / b[6])
        + b[8] * np.sin(a / b[6])
    )


def _enso_jac(x: Array, *b: Array) -> list[Array]:
    a = 2 * np.pi * x
    c4, s4, c7, s7 = np.cos(a / b[3]), np.sin(a / b[3]), np.cos(a / b[6]), np.sin(a / b[6])
    return [
        np.ones_like(x),
        np.cos(a / 12),
        np.sin(a / 12),
        (b[4] * s4 - b[5] * c4) * a / b[3] ** 2,
        c4,
        s4,
        (b[7] * s7 - b[8] * c7) * a / b[6] ** 2,
        c7,
        s7,
    ]


def _eckerle4(x: Array, b1: Array, b2: Array, b3: Array) -> Array:
    return b1 / b2 * np.exp(-0.5 * ((x - b3) / b2) ** 2)


def _eckerle4_jac(x: Array, b1: Array, b2: Array, b3: Array) -> list[Array]:
    z = (x - b3) / b2
    e = np.exp(-0.5 * z**2)
    return [e / b2, b1 * e / b2**2 * (z**2 - 1), b1 * e * z / b2**2]


def _gauss(x: Array, *b: Array) -> Array:
    return (
        b[0] * np.exp(-b[1] * x)
        + b[2] * np.exp(-((x - b[3]) ** 2) / b[4] ** 2)
        + b[5] * np.exp(-((x - b[6]) ** 2) / b[7] ** 2)
    )


def _gauss_jac(x: Array, *b: Array) -> list[Array]:
    e1 = np.exp(-b[1] * x)
    e2 = np.exp(-((x - b[3]) ** 2) / b[4] ** 2)
    e3 = np.exp(-((x - b[6]) ** 2) / b[7] ** 2)
    return [
        e1,
        -b[0] * x * e1,
        e2,
        b[2] * e2 * 2 * (x - b[3]) / b[4] ** 2,
        b[2] * e2 * 2 * (x - b[3]) ** 2 / b[4] ** 3,
        e3,
        b[5] * e3 * 2 * (x - b[6]) / b[7] ** 2,
        b[5] * e3 * 2 * (x - b[6]) ** 2 / b[7] ** 3,
    ]


def _rational_33(x: Array, *b: Array) -> Array:
    return (b[0] + b[1] * x + b[2] * x**2 + b[3] * x**3) / (
        1 + b[4] * x + b[5] * x**2 + b[6] * x**3
    )


def _rational_33_jac(x: Array, *b: Array) -> list[Array]:
    num = b[0] + b[1] * x + b[2] * x**2 + b[3] * x**3
    den = 1 + b[4] * x + b[5] * x**2 + b[6] * x**3
    y = num / den
    return [
        1 / den,
        x / den,
        x**2 / den,
        x**3 / den,
        -y * x / den,
        -y * x**2 / den,
        -y * x**3 / den,
    ]


def _kirby2(x: Array, *b: Array) -> Array:
    return (b[0] + b[1] * x + b[2] * x**2) / (1 + b[3] * x + b[4] * x**2)


def _kirby2_jac(x: Array, *b: Array) -> list[Array]:
    den = 1 + b[3] * x + b[4] * x**2
    y = (b[0] + b[1] * x + b[2] * x**2) / den
    return [1 / den, x / den, x**2 / den, -y * x / den, -y * x**2 / den]


def _lanczos(x: Array, *b: Array) -> Array:
    return b[0] * np.exp(-b[1] * x) + b[2] * np.exp(-b[3] * x) + b[4] * np.exp(-b[5] * x)


def _lanczos_jac(x: Array, *b: Array) -> list[Array]:
    e1, e2, e3 = np.exp(-b[1] * x), np.exp(-b[3] * x), np.exp(-b[5] * x)
    return [e1, -b[0] * x * e1, e2, -b[2] * x * e2, e3, -b[4] * x * e3]


def _mgh09(x: Array, b1: Array, b2: Array, b3: Array, b4: Array) -> Array:
    return b1 * (x**2 + x * b2) / (x**2 + x * b3 + b4)


def _mgh09_jac(x: Array, b1: Array, b2: Array, b3: Array, b4: Array) -> list[Array]:
    num, den = x**2 + x * b2, x**2 + x * b3 + b4
    return [num / den, b1 * x / den, -b1 * num * x / den**2, -b1 * num / den**2]


def _mgh10(x: Array, b1: Array, b2: Array, b3: Array) -> Array:
    return b1 * np.exp(b2 / (x + b3))


def _mgh10_jac(x: Array, b1: Array, b2: Array, b3: Array) -> list[Array]:
    e = np.exp(b2 / (x + b3))
    return [e, b1 * e / (x + b3), -b1 * e * b2 / (x + b3) ** 2]


def _mgh17(x: Array, b1: Array, b2: Array, b3: Array, b4: Array, b5: Array) -> Array:
    return b1 + b2 * np.exp(-x * b4) + b3 * np.exp(-x * b5)


def _mgh17_jac(x: Array, b1: Array, b2: Array, b3: Array, b4: Array, b5: Array) -> list[Array]:
    e4, e5 = np.exp(-x * b4), np.exp(-x * b5)
    return [np.ones_like(x), e4, e5, -b2 * x * e4, -b3 * x * e5]


def _misra1b(x: Array, b1: Array, b2: Array) -> Array:
    return b1 * (1 - (1 + b2 * x / 2) ** -2)


def _misra1b_jac(x: Array, b1: Array, b2: Array) -> list[Array]:
    return [1 - (1 + b2 * x / 2) ** -2, b1 * x * (1 + b2 * x / 2) ** -3]


def _misra1c(x: Array, b1: Array, b2: Array) -> Array:
    return b1 * (1 - (1 + 2 * b2 * x) ** -0.5)


def _misra1c_jac(x: Array, b1: Array, b2: Array) -> list[Array]:
    return [1 - (1 + 2 * b2 * x) ** -0.5, b1 * x * (1 + 2 * b2 * x) ** -1.5]


def _misra1d(x: Array, b1: Array, b2: Array) -> Array:
    return b1 * b2 * x / (1 + b2 * x)


def _misra1d_jac(x: Array, b1: Array, b2: Array) -> list[Array]:
    return [b2 * x / (1 + b2 * x), b1 * x / (1 + b2 * x) ** 2]


def _nelson(x: Array, b1: Array, b2: Array, b3: Array) -> Array:
    return b1 - b2 * x[0] * np.exp(-b3 * x[1])


def _nelson_jac(x: Array, b1: Array, b2: Array, b3: Array) -> list[Array]:
    e = np.exp(-b3 * x[1])
    return [np.ones_like(x[0]), -x[0] * e, b2 * x[0] * x[1] * e]


def _rat42(x: Array, b1: Array, b2: Array, b3: Array) -> Array:
    return b1 / (1 + np.exp(b2 - b3 * x))


def _rat42_jac(x: Array, b1: Array, b2: Array, b3: Array) -> list[Array]:
    e = np.exp(b2 - b3 * x)
    return [1 / (1 + e), -b1 * e / (1 + e) ** 2, b1 * x * e / (1 + e) ** 2]


def _rat43(x: Array, b1: Array, b2: Array, b3: Array, b4: Array) -> Array:
    return b1 / (1 + np.exp(b2 - b3 * x)) ** (1 / b4)


def _rat43_jac(x: Array, b1: Array, b2: Array, b3: Array, b4: Array) -> list[Array]:
    e = np.exp(b2 - b3 * x)
    d = 1 + e
    p = d ** (-1 / b4)
    return [p, -b1 * p * e / (b4 * d), b1 * p * x * e / (b4 * d), b1 * p * np.log(d) / b4**2]


def _roszman1(x: Array, b1: Array, b2: Array, b3: Array, b4: Array) -> Array:
    return b1 - b2 * x - np.arctan(b3 / (x - b4)) / np.pi


def _roszman1_jac(x: Array, b1: Array, b2: Array, b3: Array, b4: Array) -> list[Array]:
    t = b3 / (x - b4)
    common = -1 / (np.pi * (1 + t**2))
    return [np.ones_like(x), -x, common / (x - b4), common * b3 / (x - b4) ** 2]


def _bennett5(x: Array, b1: Array, b2: Array, b3: Array) -> Array:
    return b1 * (b2 + x) ** (-1 / b3)


def _bennett5_jac(x: Array, b1: Array, b2: Array, b3: Array) -> list[Array]:
    p = (b2 + x) ** (-1 / b3)
    return [p, -b1 * p / (b3 * (b2 + x)), b1 * p * np.log(b2 + x) / b3**2]


#: dataset → (function, Jacobian)
FORMULAS: dict[str, tuple[Func, Jac]] = {
    "Misra1a": (_exp_rise, _exp_rise_jac),
    "BoxBOD": (_exp_rise, _exp_rise_jac),
    "Chwirut1": (_chwirut, _chwirut_jac),
    "Chwirut2": (_chwirut, _chwirut_jac),
    "DanWood": (_danwood, _danwood_jac),
    "ENSO": (_enso, _enso_jac),
    "Eckerle4": (_eckerle4, _eckerle4_jac),
    "Gauss1": (_gauss, _gauss_jac),
    "Gauss2": (_gauss, _gauss_jac),
    "Gauss3": (_gauss, _gauss_jac),
    "Hahn1": (_rational_33, _rational_33_jac),
    "Thurber": (_rational_33, _rational_33_jac),
    "Kirby2": (_kirby2, _kirby2_jac),
    "Lanczos1": (_lanczos, _lanczos_jac),
    "Lanczos2": (_lanczos, _lanczos_jac),
    "Lanczos3": (_lanczos, _lanczos_jac),
    "MGH09": (_mgh09, _mgh09_jac),
    "MGH10": (_mgh10, _mgh10_jac),
    "MGH17": (_mgh17, _mgh17_jac),
    "Misra1b": (_misra1b, _misra1b_jac),
    "Misra1c": (_misra1c, _misra1c_jac),
    "Misra1d": (_misra1d, _misra1d_jac),
    "Nelson": (_nelson, _nelson_jac),
    "Rat42": (_rat42, _rat42_jac),
    "Rat43": (_rat43, _rat43_jac),
    "Roszman1": (_roszman1, _roszman1_jac),
    "Bennett5": (_bennett5, _bennett5_jac),
}


@dataclass(frozen=True)
class Problem:
    """One NIST dataset: data (float64 and long double), model and certified values.

    ``x`` is (n,) or, with k predictors, (n, k) as the engine takes it;
    ``x_long`` (n,) or (k, n) and ``y_long`` (n,) are the same data parsed
    from the file's decimal strings as ``np.longdouble``.
    """

    name: str
    x: Array
    y: Array
    x_long: Array
    y_long: Array
    model: Model
    starts: tuple[Array, Array]
    certified: Array
    certified_se: Array
    rss: float
    residual_sd: float


def _read_dat(path: Path) -> Array:
    """The data rows of a NIST ``.dat`` file (after the last ``Data:`` header), as strings."""
    lines = path.read_text().splitlines()
    header = max(i for i, line in enumerate(lines) if line.startswith("Data:"))
    return np.array([line.split() for line in lines[header + 1 :] if line.strip()])


def _columns(table: Array, name: str) -> tuple[Array, Array]:
    """(x, y) of a parsed table, x (n,) or (n, k); Nelson's response is ln y."""
    y = np.log(table[:, 0]) if name == "Nelson" else table[:, 0]
    x = table[:, 1:] if table.shape[1] > 2 else table[:, 1]
    return x, y


def load(folder: Path, name: str) -> Problem:
    """Problem ``name`` from the NIST folder (``.dat`` file plus ``certified.json``)."""
    info = json.loads((folder / "certified.json").read_text())[name]
    table = _read_dat(folder / f"{name}.dat")
    x, y = _columns(table.astype(float), name)
    x_long, y_long = _columns(table.astype(np.longdouble), name)
    func, jac = FORMULAS[name]
    return Problem(
        name=name,
        x=x,
        y=y,
        x_long=x_long.T,
        y_long=y_long,
        model=generic_model(name, info["params"], func, jac, formula=info["model"]),
        starts=(np.array(info["start1"]), np.array(info["start2"])),
        certified=np.array(info["certified"]),
        certified_se=np.array(info["certified_se"]),
        rss=float(info["rss"]),
        residual_sd=float(info["residual_sd"]),
    )


def fit_problem(problem: Problem, start: int) -> FitResult:
    """Fit ``problem`` from NIST start 1 or 2 through the engine's generic-model path."""
    return fit_batch(
        problem.x,
        problem.y,
        model=problem.model,
        start=problem.starts[start - 1],
        settings=NIST_SETTINGS,
    )


def polish_problem(problem: Problem, fit: FitResult) -> Polished:
    """The engine's optimum ``fit`` polished in long double: θ, RSS and J′J SEs."""
    func, jac = FORMULAS[problem.name]
    return polish_extended(func, jac, problem.x_long, problem.y_long, fit.theta[:, 0])


def lre(value: Array, certified: Array) -> Array:
    """Log relative error −log10(|value − certified|/|certified|), between 0 and 15."""
    value, certified = np.asarray(value, dtype=float), np.asarray(certified, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.abs(value - certified) / np.abs(certified)
        out = -np.log10(rel)
    return np.where(rel == 0, 15.0, np.clip(np.nan_to_num(out, nan=0.0), 0.0, 15.0))
