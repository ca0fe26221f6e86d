"""Opinion groups from a vote matrix: the Polis method, made reproducible and scalable.

Pipeline (DESIGN.md, "Opinion groups"): mean-impute, PCA to 2-D, push sparse voters out from the
centre by √(n_statements / n_votes), ~100 base clusters, then weighted k-means of the base clusters
for k = 2..5. What we changed, each measured on six real conversations (bench/evaluate_groups.py):

- Reproducible: every random step is seeded, PCA signs are fixed and BLAS/OpenMP run on one thread
  (summation order then does not depend on the machine), so a run is identical in any process.
- Within a k, among the local optima of 20 seeded k-means starts we keep the best-separated one
  (highest silhouette, the same criterion that picks k), not the lowest-inertia one: on a continuum
  of opinion k-means has several near-equal optima, and taking the lowest inertia made the groups
  jump (mean stability over 5 seeds 0.84 -> 0.94 on 15-per-hour-seattle, 0.54 -> 0.88 on
  london.youth.policing).
- k is switched to a larger value only when its silhouette is better in ≥ 95% of bootstrap
  re-weightings of the participants (Polis instead waits for a new k to win several updates in a
  row, which needs a history we do not have). Plain "highest silhouette" chose 3 groups on
  brexit-consensus (Polis: 2; ARI 0.56 vs 0.88). Groups under 3 people or 3% are rejected.
- The final labels are refined by k-means on the participants themselves, from the group centres,
  so a base cluster that straddles a boundary does not drag all its members to one side.
- Participants with too few votes to be clustered are still placed on the map and given the group
  whose centre is nearest (``assigned_labels``), flagged as provisional; statistics ignore them.

The matrix is never densified: with mean imputation the centred matrix is zero on every unseen cell,
so it has the sparsity of the votes and PCA is a truncated SVD of a sparse matrix.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, fields
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.linalg import svds
from threadpoolctl import threadpool_limits

# How the reason for rejecting a k whose smallest group is too small begins.
TOO_SMALL = "a group of"
# Dense exact SVD below this many cells; sparse Lanczos SVD above it.
_DENSE_SVD_MAX_CELLS = 400_000


class NotEnoughData(ValueError):
    """The votes cannot support an opinion-group analysis; reported to the user, not a crash."""


def _readonly(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class VoteMatrix:
    """Participants x statements votes as deduplicated sparse triples.

    ``values`` are +1 agree, -1 disagree, 0 pass; a missing triple means "not seen". Sparse so that
    millions of votes fit; immutable (read-only arrays) so an analysis can be reproduced from it.
    """

    rows: np.ndarray  # int32 participant index per vote, sorted by (row, col)
    cols: np.ndarray  # int32 statement index per vote
    values: np.ndarray  # int8 in {-1, 0, 1}
    participant_ids: tuple[Any, ...]
    statement_ids: tuple[Any, ...]
    moderated_out: np.ndarray  # bool per statement: rejected by moderation, zeroed
    roles: tuple[str | None, ...] | None = None  # per participant, e.g. "staff" / "citizen"

    @classmethod
    def from_triples(
        cls,
        participants: Sequence[int] | np.ndarray,
        statements: Sequence[int] | np.ndarray,
        votes: Sequence[float] | np.ndarray,
        *,
        participant_ids: Sequence[Any] | None = None,
        statement_ids: Sequence[Any] | None = None,
        n_participants: int | None = None,
        n_statements: int | None = None,
        moderated_out: Sequence[bool] | np.ndarray | None = None,
        roles: Sequence[str | None] | None = None,
    ) -> VoteMatrix:
        """Build from (participant index, statement index, vote) triples.

        A repeated (participant, statement) pair keeps its last occurrence, as a changed vote does.
        NaN votes mean unseen and are dropped. Ids default to the indices.
        """
        r = np.asarray(participants, dtype=np.int64).ravel()
        c = np.asarray(statements, dtype=np.int64).ravel()
        v = np.asarray(votes, dtype=np.float64).ravel()
        if not (len(r) == len(c) == len(v)):
            raise ValueError("participants, statements and votes must have the same length")
        keep = ~np.isnan(v)
        if not keep.all():
            r, c, v = r[keep], c[keep], v[keep]
        if np.any((v != 1) & (v != -1) & (v != 0)):
            raise ValueError("votes must be +1 (agree), -1 (disagree), 0 (pass) or NaN (unseen)")
        n = _size(n_participants, participant_ids, r, "participant")
        m = _size(n_statements, statement_ids, c, "statement")
        if len(r) and (r.min() < 0 or r.max() >= n or c.min() < 0 or c.max() >= m):
            raise ValueError("a vote refers to a participant or statement index out of range")
        key = r * max(m, 1) + c
        # Last occurrence wins: unique on the reversed keys returns the last index of each key.
        _, last = np.unique(key[::-1], return_index=True)
        idx = len(key) - 1 - last
        mod = np.zeros(m, dtype=bool) if moderated_out is None else np.asarray(moderated_out, bool)
        if mod.shape != (m,):
            raise ValueError("moderated_out needs one flag per statement")
        role_t = None if roles is None else tuple(roles)
        if role_t is not None and len(role_t) != n:
            raise ValueError("roles needs one entry per participant")
        return cls(
            rows=_readonly(r[idx].astype(np.int32)),
            cols=_readonly(c[idx].astype(np.int32)),
            values=_readonly(v[idx].astype(np.int8)),
            participant_ids=tuple(range(n)) if participant_ids is None else tuple(participant_ids),
            statement_ids=tuple(range(m)) if statement_ids is None else tuple(statement_ids),
            moderated_out=_readonly(mod.copy()),
            roles=role_t,
        )

    @classmethod
    def from_dense(
        cls, matrix: np.ndarray | Sequence[Sequence[float]], **kwargs: Any
    ) -> VoteMatrix:
        """Build from a dense participants x statements array with NaN for unseen (small data)."""
        a = np.asarray(matrix, dtype=np.float64)
        if a.ndim != 2:
            raise ValueError("a vote matrix is two-dimensional")
        r, c = np.nonzero(~np.isnan(a))
        kwargs.setdefault("n_participants", a.shape[0])
        kwargs.setdefault("n_statements", a.shape[1])
        return cls.from_triples(r, c, a[r, c], **kwargs)

    @property
    def n_participants(self) -> int:
        return len(self.participant_ids)

    @property
    def n_statements(self) -> int:
        return len(self.statement_ids)

    @property
    def n_votes(self) -> int:
        return len(self.values)

    @cached_property
    def active(self) -> np.ndarray:
        """Per vote: is its statement still in (not moderated out)?"""
        return _readonly(~self.moderated_out[self.cols])

    def _csr(self, data: np.ndarray) -> sp.csr_matrix:
        """CSR over active statements, built directly: the triples are already sorted by row."""
        act = self.active
        rows = self.rows[act]
        indptr = np.zeros(self.n_participants + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=self.n_participants), out=indptr[1:])
        shape = (self.n_participants, self.n_statements)
        return sp.csr_matrix((data[act], self.cols[act], indptr), shape=shape)

    @cached_property
    def agree(self) -> sp.csr_matrix:
        """1.0 where a participant agreed with an active statement."""
        return self._csr((self.values == 1).astype(np.float64))

    @cached_property
    def disagree(self) -> sp.csr_matrix:
        """1.0 where a participant disagreed with an active statement."""
        return self._csr((self.values == -1).astype(np.float64))

    @cached_property
    def seen(self) -> sp.csr_matrix:
        """1.0 where a participant voted (pass included) on an active statement."""
        return self._csr(np.ones(self.n_votes, dtype=np.float64))

    @cached_property
    def votes_per_participant(self) -> np.ndarray:
        """All votes cast, on moderated-out statements too: it measures engagement (as Polis)."""
        return _readonly(np.bincount(self.rows, minlength=self.n_participants))

    @cached_property
    def active_votes_per_participant(self) -> np.ndarray:
        return _readonly(np.bincount(self.rows[self.active], minlength=self.n_participants))


def _size(explicit: int | None, ids: Sequence[Any] | None, idx: np.ndarray, what: str) -> int:
    if ids is not None:
        if explicit is not None and explicit != len(ids):
            raise ValueError(f"n_{what}s disagrees with the number of {what} ids")
        return len(ids)
    if explicit is not None:
        return int(explicit)
    return int(idx.max()) + 1 if len(idx) else 0


@dataclass(frozen=True)
class GroupParameters:
    """Every knob of the grouping, stored with each run so that it can be reproduced."""

    seed: int = 20240601
    min_votes: int = 7  # clustered with >= min(min_votes, n_statements) votes ...
    min_clustered: int = 15  # ... topped up with the heaviest voters to this many
    n_base_clusters: int = 100
    base_n_init: int = 3
    max_groups: int = 5
    group_n_init: int = 20
    min_group_size: int = 3  # a k making a group smaller than this ...
    min_group_share: float = 0.03  # ... or than this share of the clustered is rejected
    k_bootstrap: int = 200  # re-weightings used to test that a larger k is really better
    k_alpha: float = 0.05
    refine: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True, eq=False)
class OpinionGroups:
    """Where every participant sits on the 2-D opinion map and which group they belong to.

    ``labels`` is -1 for participants not clustered (too few votes); ``assigned_labels`` also gives
    those with at least one vote the nearest group (provisional). Groups are numbered 0..k-1 by
    decreasing size.
    """

    coordinates: np.ndarray  # (n_participants, 2); NaN for participants with no active vote
    clustered: np.ndarray  # bool per participant
    labels: np.ndarray  # int per participant, -1 if not clustered
    assigned_labels: np.ndarray  # labels, plus the nearest group for unclustered voters
    k: int
    silhouettes: dict[int, float]  # candidate k -> participant-weighted silhouette
    rejected_k: dict[int, str]  # candidate k -> why it was not chosen
    components: np.ndarray  # (2, n_statements) PCA axes, sign-fixed
    center: np.ndarray  # per-statement mean vote, used for imputation
    explained_variance_ratio: np.ndarray  # (2,)
    group_centers: np.ndarray  # (k, 2)
    n_base_clusters: int
    parameters: GroupParameters

    @property
    def group_sizes(self) -> list[int]:
        return [int(np.sum(self.labels == g)) for g in range(self.k)]


def _statement_means(votes: VoteMatrix) -> np.ndarray:
    """Mean vote per statement over those who saw it; 0 for moderated-out or unseen statements."""
    m = votes.n_statements
    act = votes.active
    cols = votes.cols[act]
    sums = np.bincount(cols, weights=votes.values[act].astype(np.float64), minlength=m)
    counts = np.bincount(cols, minlength=m)
    return np.where(counts > 0, sums / np.maximum(counts, 1), 0.0)


def _centred(votes: VoteMatrix, mu: np.ndarray) -> sp.csr_matrix:
    """Mean-imputed, centred votes: vote - mean on seen cells and exactly 0 on unseen cells."""
    c = votes.seen.copy()
    c.data = votes.values[votes.active].astype(np.float64) - mu[c.indices]
    return c


def _pca_axes(c: sp.csr_matrix, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-2 right singular vectors of the centred matrix, with deterministic signs.

    Exact dense SVD for small matrices, sparse Lanczos (ARPACK) for large ones. Each axis is
    flipped so that its largest-magnitude loading is positive, so the map never mirrors.
    """
    n, m = c.shape
    n_comp = min(2, n, m)
    total = float(c.multiply(c).sum())
    axes = np.zeros((2, m))
    ratio = np.zeros(2)
    if n_comp == 0 or total <= 0:
        return axes, ratio
    if n * m <= _DENSE_SVD_MAX_CELLS or min(n, m) <= n_comp + 1:
        _, s, vt = np.linalg.svd(c.toarray(), full_matrices=False)
    else:
        # ARPACK (Lanczos) to machine tolerance from a seeded start vector: exact like the dense
        # SVD, deterministic, and only sparse products (~20 of them) on millions of votes.
        v0 = np.random.default_rng(seed).standard_normal(min(n, m))
        _, s, vt = svds(c, k=n_comp, v0=v0, solver="arpack")
        order = np.argsort(-s)
        s, vt = s[order], vt[order]
    for i in range(n_comp):
        v = vt[i]
        axes[i] = v if v[int(np.argmax(np.abs(v)))] >= 0 else -v
        ratio[i] = s[i] ** 2 / total
    return axes, ratio


def _project(votes: VoteMatrix, centred: sp.csr_matrix, axes: np.ndarray) -> np.ndarray:
    """Polis' sparsity-aware projection: each row scaled by √(n_statements / n_votes).

    Without it, someone who saw 5 of 50 statements sits near the centre only because their unseen
    cells were imputed with the mean. As in Polis, moderated-out statements are zeroed for everyone,
    so they count in both n_statements and n_votes. Measured against counting active statements
    only, this damped scaling matches Polis far better where many statements were rejected (ARI
    0.94 vs 0.75 on 15-per-hour-seattle, 23 of 54 rejected; 1.00 vs 0.84 on canadian-electoral-
    reform) and is more stable (0.95 vs 0.87 on scoop-hivemind.biodiversity, 160 of 314).
    """
    n_mod = int(votes.moderated_out.sum())
    nv = votes.active_votes_per_participant
    coords = np.asarray(centred @ axes.T)
    coords *= np.sqrt(votes.n_statements / np.maximum(nv + n_mod, 1))[:, None]
    coords[nv == 0] = np.nan
    return coords


def clusterable_participants(votes: VoteMatrix, params: GroupParameters) -> np.ndarray:
    """Participants with >= min(7, n_statements) votes, topped up to 15 with the heaviest voters.

    Votes are counted as Polis does (moderated-out statements included: engagement), but a
    participant needs at least one vote on an active statement to have a place on the map.
    """
    nv = votes.votes_per_participant
    has_active = votes.active_votes_per_participant > 0
    mask = (nv >= min(params.min_votes, votes.n_statements)) & has_active
    if mask.sum() < params.min_clustered:
        order = np.lexsort((np.arange(len(nv)), -nv))  # most votes first, ties by index
        for i in order:
            if mask.sum() >= params.min_clustered:
                break
            if has_active[i]:
                mask[i] = True
    return mask


def _distances(points: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    squared: npt.NDArray[np.float64] = ((points[:, None, :] - points[None, :, :]) ** 2).sum(-1)
    return np.sqrt(squared)


def _weighted_silhouette(d: np.ndarray, weights: np.ndarray, labels: np.ndarray) -> float:
    """Participant-level silhouette computed on base-cluster centres (``d``: their distances).

    Each base centre stands for ``weight`` participants at the same place, so this is the
    silhouette of all clustered participants at the cost of a 100 x 100 distance matrix.
    """
    return float(_bootstrap_silhouettes(d, labels, weights[None, :])[0])


def _bootstrap_silhouettes(d: np.ndarray, labels: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted silhouette of a fixed partition under each row of weights ``w`` (B, n)."""
    n = len(d)
    k = int(labels.max()) + 1
    onehot = np.zeros((n, k))
    onehot[np.arange(n), labels] = 1.0
    wb = w[:, :, None] * onehot[None]  # (B, n, k)
    sums = np.matmul(d, wb)  # (B, n, k): weighted distance from each point to each group
    sizes = wb.sum(1)  # (B, k)
    own = sizes[:, labels]  # (B, n)
    with np.errstate(invalid="ignore", divide="ignore"):
        a = sums[:, np.arange(n), labels] / np.maximum(own - 1, 1e-12)
        other = sums / sizes[:, None, :]
    other[:, np.arange(n), labels] = np.inf
    b = other.min(-1)
    s = np.where(own > 1, (b - a) / np.maximum(np.maximum(a, b), 1e-12), 0.0)
    s = np.nan_to_num(s, nan=0.0, posinf=0.0, neginf=0.0)
    silhouettes: npt.NDArray[np.float64] = (s * w).sum(1) / np.maximum(w.sum(1), 1e-12)
    return silhouettes


def _kmeanspp(x: np.ndarray, w: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Weighted k-means++ seeding for R runs at once: w is (R, n), returns centres (R, k, d)."""
    r, n = w.shape
    centres = np.empty((r, k, x.shape[1]))

    def pick(p: np.ndarray) -> np.ndarray:
        cs = np.cumsum(p, axis=1)
        u = rng.random(r) * cs[:, -1]
        idx = [np.searchsorted(cs[i], u[i]) for i in range(r)]  # = (cs < u).sum()
        picked: npt.NDArray[np.intp] = np.minimum(np.array(idx), n - 1)
        return picked

    centres[:, 0] = x[pick(w)]
    d2 = ((x[None] - centres[:, :1]) ** 2).sum(-1)
    for j in range(1, k):
        p = w * d2
        p = np.where(p.sum(1, keepdims=True) > 0, p, w)
        centres[:, j] = x[pick(p)]
        d2 = np.minimum(d2, ((x[None] - centres[:, j : j + 1]) ** 2).sum(-1))
    return centres


def _lloyd(
    x: np.ndarray, w: np.ndarray, centres: np.ndarray, max_iter: int = 100
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted Lloyd iterations for R runs at once (x is (n, d), w is (R, n)).

    The group step works on ~100 base clusters, so running all starts together in numpy beats
    calling sklearn hundreds of times. Returns labels (R, n) and inertia (R,).
    """
    r, n = w.shape
    k = centres.shape[1]
    labels = np.full((r, n), -1)
    for _ in range(max_iter):
        d = ((x[None, :, None, :] - centres[:, None, :, :]) ** 2).sum(-1)
        new = d.argmin(-1)
        if np.array_equal(new, labels):
            break
        labels = new
        onehot = np.zeros((r, n, k))
        np.put_along_axis(onehot, labels[..., None], 1.0, axis=-1)
        onehot *= w[..., None]
        mass = onehot.sum(1)
        sums = np.einsum("rnk,nd->rkd", onehot, x)
        centres = np.where(mass[..., None] > 0, sums / np.maximum(mass[..., None], 1e-300), centres)
    d = ((x[None, :, None, :] - centres[:, None, :, :]) ** 2).sum(-1)
    labels = d.argmin(-1)
    inertia = (w * np.take_along_axis(d, labels[..., None], -1)[..., 0]).sum(1)
    return labels, inertia


def _canonical(
    labels: npt.NDArray[np.intp], weights: np.ndarray, points: np.ndarray
) -> npt.NDArray[np.int64]:
    """Renumber groups by decreasing size (ties: by centre x then y) so labels are stable."""
    k = int(labels.max()) + 1
    sizes = np.bincount(labels, weights=weights, minlength=k)
    centres = np.array(
        [np.average(points[labels == g], axis=0, weights=weights[labels == g]) for g in range(k)]
    )
    order = np.lexsort((centres[:, 1], centres[:, 0], -sizes))
    rank = np.empty(k, dtype=np.int64)
    rank[order] = np.arange(k)
    return rank[labels]


def _base_clusters(
    points: np.ndarray, params: GroupParameters
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """~100 base clusters, so the group step works on ~100 weighted points, not n people."""
    uniq, inverse = np.unique(points, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    if len(uniq) <= params.n_base_clusters:
        centres, labels = uniq, inverse
    else:
        # Seeding in numpy (sklearn's k-means++ loop costs ~30 ms of Python per start), Lloyd in
        # sklearn's compiled code; the best of ``base_n_init`` starts by inertia.
        rng = np.random.default_rng(params.seed)
        ones = np.ones((params.base_n_init, len(points)))
        seeds = _kmeanspp(points, ones, params.n_base_clusters, rng)
        from sklearn.cluster import KMeans  # imported here: 2 s, and small conversations skip it

        best = None
        # Limit again now that sklearn's OpenMP runtime is loaded (limits apply to loaded ones).
        with threadpool_limits(limits=1):
            for init in seeds:
                km = KMeans(n_clusters=params.n_base_clusters, init=init, n_init=1, max_iter=100)
                km.fit(points)
                if best is None or km.inertia_ < best.inertia_:
                    best = km
        assert best is not None
        labels, centres = best.labels_, best.cluster_centers_
    weights = np.bincount(labels, minlength=len(centres)).astype(np.float64)
    keep = weights > 0
    if not keep.all():
        remap = np.cumsum(keep) - 1
        labels, centres, weights = remap[labels], centres[keep], weights[keep]
    return labels, centres, weights


def _partition(
    x: np.ndarray,
    d: np.ndarray,
    w: np.ndarray,
    k: int,
    min_size: int,
    params: GroupParameters,
    rng: np.random.Generator,
) -> np.ndarray | None:
    """Weighted k-means of the base clusters into k groups: the best-separated local optimum.

    Optima with no too-small group come first; among them the highest silhouette wins, then the
    lowest inertia. None if no start produced k non-empty groups.
    """
    runs = np.tile(w, (params.group_n_init, 1))
    labels, inertia = _lloyd(x, runs, _kmeanspp(x, runs, k, rng))
    best_key: tuple[bool, float, float] | None = None
    chosen: np.ndarray | None = None
    tried: set[bytes] = set()
    for r in np.argsort(inertia, kind="stable"):
        lab = labels[r]
        if len(np.unique(lab)) < k or lab.tobytes() in tried:
            continue
        tried.add(lab.tobytes())
        sizes = np.bincount(lab, weights=w, minlength=k)
        key = (bool(sizes.min() >= min_size), _weighted_silhouette(d, w, lab), -float(inertia[r]))
        if best_key is None or key > best_key:
            best_key, chosen = key, lab
    return None if chosen is None else _canonical(chosen, w, x)


def compute_opinion_groups(
    votes: VoteMatrix, params: GroupParameters | None = None, *, k: int | None = None
) -> OpinionGroups:
    """Place participants on the opinion map and group them.

    ``k`` forces the number of groups (no choice between k values): the claims' held-out
    clusterings and a groups test that steps down to a smaller k use it.
    Raises NotEnoughData when fewer participants can be clustered than two smallest groups need.
    BLAS and OpenMP run on one thread so that sums, hence results, do not depend on the machine.
    """
    with threadpool_limits(limits=1):
        return _compute_opinion_groups(votes, params or GroupParameters(), k)


def _compute_opinion_groups(
    votes: VoteMatrix, params: GroupParameters, forced_k: int | None = None
) -> OpinionGroups:
    if votes.n_participants == 0 or votes.n_votes == 0:
        raise NotEnoughData("there are no votes yet")
    if not votes.active.any():
        raise NotEnoughData("every voted statement was moderated out")
    mu = _statement_means(votes)
    c = _centred(votes, mu)
    axes, ratio = _pca_axes(c, params.seed)
    axes[:, votes.moderated_out] = 0.0  # exactly, not SVD round-off: they carry no opinion
    coords = _project(votes, c, axes)
    clustered = clusterable_participants(votes, params)
    idx = np.flatnonzero(clustered)
    n_cl = len(idx)
    if n_cl < 2 * params.min_group_size:
        raise NotEnoughData(
            f"only {n_cl} participant(s) have voted enough to be grouped; at least "
            f"{2 * params.min_group_size} are needed for two groups of {params.min_group_size}"
        )
    pts = coords[idx]
    base_lab, base_ctr, base_w = _base_clusters(pts, params)
    n_base = len(base_ctr)
    min_size = max(params.min_group_size, math.ceil(params.min_group_share * n_cl))
    max_k = min(params.max_groups, n_base, 2 + n_base // 12)
    dist = _distances(base_ctr)
    rng = np.random.default_rng(params.seed)
    boot = (
        np.random.default_rng(params.seed + 1)
        .multinomial(int(base_w.sum()), base_w / base_w.sum(), size=max(params.k_bootstrap, 1))
        .astype(np.float64)
    )
    sil: dict[int, float] = {}
    rejected: dict[int, str] = {}
    best: tuple[float, int, np.ndarray] | None = None
    candidates = range(2, max_k + 1) if forced_k is None else range(forced_k, forced_k + 1)
    for k in candidates:
        lab = _partition(base_ctr, dist, base_w, k, min_size, params, rng)
        if lab is None:
            rejected[k] = "k-means found no k non-empty groups"
            continue
        sizes = np.bincount(lab, weights=base_w, minlength=k)
        s = _weighted_silhouette(dist, base_w, lab)
        sil[k] = s
        if sizes.min() < min_size and forced_k is None:
            rejected[k] = f"{TOO_SMALL} {int(sizes.min())} (< {min_size} participants)"
        elif best is None:
            best = (s, k, lab)
        elif s <= best[0]:
            rejected[k] = f"silhouette not above k={best[1]}"
        else:
            wins = np.mean(
                _bootstrap_silhouettes(dist, lab, boot)
                > _bootstrap_silhouettes(dist, best[2], boot)
            )
            if params.k_bootstrap == 0 or wins >= 1 - params.k_alpha:
                rejected[best[1]] = f"k={k} separates better in {wins:.0%} of bootstraps"
                best = (s, k, lab)
            else:
                rejected[k] = f"better than k={best[1]} in only {wins:.0%} of bootstraps"
    labels = np.full(votes.n_participants, -1, dtype=np.int64)
    if best is None:
        k = 1
        labels[idx] = 0
    else:
        _, k, group_of_base = best
        labels[idx] = group_of_base[base_lab]
        if params.refine:
            labels[idx] = _refine(pts, labels[idx], k, min_size)
    gcent = np.array([pts[labels[idx] == g].mean(0) for g in range(k)])
    assigned = labels.copy()
    placed = ~clustered & ~np.isnan(coords[:, 0])
    if placed.any():
        d = ((coords[placed][:, None, :] - gcent[None]) ** 2).sum(-1)
        assigned[placed] = d.argmin(1)
    return OpinionGroups(
        coordinates=_readonly(coords),
        clustered=_readonly(clustered),
        labels=_readonly(labels),
        assigned_labels=_readonly(assigned),
        k=k,
        silhouettes=sil,
        rejected_k=rejected,
        components=_readonly(axes),
        center=_readonly(mu),
        explained_variance_ratio=_readonly(ratio),
        group_centers=_readonly(gcent),
        n_base_clusters=n_base,
        parameters=params,
    )


def one_group(groups: OpinionGroups, why: str) -> OpinionGroups:
    """The same map with everyone in one group: the split found is not to be published.

    The candidate k values keep their silhouettes, and each says ``why`` it was not kept.
    """
    placed = ~np.isnan(groups.coordinates[:, 0])
    centre = groups.coordinates[groups.clustered].mean(0)
    return dataclasses.replace(
        groups,
        labels=_readonly(np.where(groups.clustered, 0, -1)),
        assigned_labels=_readonly(np.where(groups.clustered | placed, 0, -1)),
        k=1,
        rejected_k={**groups.rejected_k, **{k: why for k in groups.silhouettes}},
        group_centers=_readonly(centre[None, :]),
    )


def _refine(pts: np.ndarray, labels: np.ndarray, k: int, min_size: int) -> np.ndarray:
    """Lloyd on the participants from the group centres; kept only if no group gets too small."""
    init = np.array([pts[labels == g].mean(0) for g in range(k)])
    lab, _ = _lloyd(pts, np.ones((1, len(pts))), init[None])
    new: npt.NDArray[np.intp] = lab[0]
    if np.bincount(new, minlength=k).min() < min_size:
        return labels
    # Keep the numbering of the unrefined groups.
    return relabel_to_match(new, labels, k)


def relabel_to_match(labels: np.ndarray, reference: np.ndarray, k: int) -> np.ndarray:
    """Renumber ``labels`` (0..k-1, -1 = none) to overlap ``reference`` the most.

    Tries every relabelling (k <= 5, so at most 120); -1 stays -1.
    """
    both = (labels >= 0) & (reference >= 0)
    overlap = np.zeros((k, k))
    np.add.at(overlap, (labels[both], reference[both]), 1.0)
    perms = np.array(list(itertools.permutations(range(k))))
    best: npt.NDArray[np.intp] = perms[np.argmax(overlap[np.arange(k), perms].sum(1))]
    return np.where(labels >= 0, best[np.maximum(labels, 0)], -1)
