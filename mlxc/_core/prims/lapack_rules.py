"""vjp, jvp and vmap rules of the Lapack primitive (prims/lapack.pyx), by op code.

Written with mlxc ops, so they are differentiable again (Hessian-vector products).
Notation: X^T is mT(X), tril/triu act on the last two axes.  The eigenvector and
singular-vector rules divide by differences of eigenvalues / singular values: they
assume those are distinct.
"""
import mlxc.core as mx
from mlxc._core.prims.lapack import (CHOLESKY, EIG, EIGH, INV, LU, QR, SLOGDET, SOLVE,
                                     SOLVE_TRI, SVD, TRI_INV)


def _mT(x):
    return mx.swapaxes(x, -1, -2)


def _tri(x, upper):
    return mx.triu(x) if upper else mx.tril(x)


def _strict_tri(x, upper):
    return mx.triu(x, 1) if upper else mx.tril(x, -1)


def _eye_like(x):
    return mx.eye(x.shape[-1], dtype=x.dtype)


def _diag(x):
    return mx.diagonal(x, 0, -2, -1)


def _diag_embed(v):
    return mx.expand_dims(v, -1) * mx.eye(v.shape[-1], dtype=v.dtype)


def _lap(op, flag, *inputs):
    """The outputs of a fresh Lapack(op, flag) node (shapes of a rule's recomputation)."""
    from mlxc._core.ops.lapack import lapack
    return lapack(op, flag, *inputs)


def _solve(a, b):
    return _lap(SOLVE, 0, a, b)[0]


def _solve_tri(a, b, upper):
    return _lap(SOLVE_TRI, int(upper), a, b)[0]


def _unbroadcast(g, x):
    from mlxc._core.prims.rulekit import unbroadcast
    return unbroadcast(g, x.shape)


def output_shapes(op, flag, inputs):
    from mlxc._core.ops.lapack import lapack
    return [o.shape for o in lapack(op, flag, *inputs)]


# ---------------------------------------------------------------- derivatives
# Each function returns the output tangents (jvp) for an input tangent dA (and dB).

def _inv_factor_l(L):
    """L^{-1} for a lower triangular L."""
    return _lap(TRI_INV, 0, L)[0]


def _phi(x):
    """Lower triangle with half the diagonal."""
    return mx.tril(x, -1) + 0.5 * _diag_embed(_diag(x))


def _cholesky_jvp(upper, L, dA):
    # A = L L^T:  dL = L Phi(L^-1 dA L^-T), dA symmetrized from the triangle read
    if upper:
        L = _mT(L)
    dA = _sym_from_tri(dA, upper)
    Li = _inv_factor_l(L)
    dL = L @ _phi(Li @ dA @ _mT(Li))
    return _mT(dL) if upper else dL


def _sym_from_tri(x, upper):
    """The symmetric matrix whose `upper` (lower) triangle is x's: what LAPACK reads."""
    t = mx.triu(x, 1) if upper else mx.tril(x, -1)
    return t + _mT(t) + _diag_embed(_diag(x))


def _cholesky_vjp(upper, L, G):
    # gA from S = L^-T Phi(L^T G) L^-1, folded onto the triangle read by LAPACK
    if upper:
        L, G = _mT(L), _mT(G)
    G = mx.tril(G)
    Li = _inv_factor_l(L)
    S = _mT(Li) @ _phi(_mT(L) @ G) @ Li
    S = 0.5 * (S + _mT(S))
    return _tri_fold(S, upper)


def _tri_fold(S, upper):
    """Cotangent of x for f(_sym_from_tri(x)) from the symmetric cotangent S."""
    t = 2 * (mx.triu(S, 1) if upper else mx.tril(S, -1))
    return t + _diag_embed(_diag(S))


def _eigh_jvp(flag, w, V, dA):
    upper = flag & 1
    dA = _sym_from_tri(dA, upper)
    M = _mT(V) @ dA @ V
    dw = _diag(M)
    if not flag & 2:
        return [dw]
    F = _eig_gap_inv(w)
    return [dw, V @ (F * M)]


def _eig_gap_inv(w):
    """F_ij = 1 / (w_j - w_i) off the diagonal, 0 on it."""
    d = mx.expand_dims(w, -2) - mx.expand_dims(w, -1)
    eye = mx.eye(w.shape[-1], dtype=mx.bool_)
    return mx.where(eye, 0, 1 / mx.where(eye, 1, d))


def _eigh_vjp(flag, w, V, gw, gV):
    inner = _diag_embed(gw)
    if flag & 2:
        inner = inner + _eig_gap_inv(w) * (_mT(V) @ gV)
    S = V @ inner @ _mT(V)
    S = 0.5 * (S + _mT(S))
    return _tri_fold(S, flag & 1)


def _cinv(V):
    """Inverse of complex matrices through the real 2n x 2n embedding [[X, -Y], [Y, X]]
    of V = X + iY (LAPACK here is real only): its first block column is [P; Q] with
    V^-1 = P + iQ."""
    X, Y = mx.real(V), mx.imag(V)
    big = mx.concatenate([mx.concatenate([X, -Y], axis=-1),
                          mx.concatenate([Y, X], axis=-1)], axis=-2)
    n = V.shape[-1]
    Bi = _lap(INV, 0, big)[0]
    P, Q = Bi[..., :n, :n], Bi[..., n:, :n]
    return P.astype(mx.complex64) + mx.array(1j, mx.complex64) * Q.astype(mx.complex64)


def _eig_vectors(flag, A, outputs):
    """(w, V) of A: the node's own outputs, or a fresh eig for eigvals' rules."""
    if flag & 1:
        return outputs[0], outputs[1]
    w, V = _lap(EIG, flag | 1, A)
    return w, V


def _eig_jvp(flag, A, outputs, dA):
    """A = V diag(w) V^-1 with distinct w:  M = V^-1 dA V,  dw = diag(M),
    dV = V (F * M) with F_ij = 1/(w_j - w_i), then the part that changes the unit norm
    LAPACK gives each eigenvector taken out."""
    w, V = _eig_vectors(flag, A, outputs)
    M = _cinv(V) @ dA.astype(mx.complex64) @ V
    dw = _diag(M)
    if not flag & 1:
        return [dw]
    dV = V @ (_eig_gap_inv(w) * M)
    dV = dV - V * mx.expand_dims(mx.real(mx.sum(mx.conj(V) * dV, axis=-2)), -2)
    return [dw, dV]


def _eig_vjp(flag, A, outputs, cotangents):
    """The transpose of _eig_jvp (conjugate cotangents, as matmul's):
    gA = Re(V^-H (diag(gw) + conj(F) * (V^H gV - V^H V diag(Re diag(V^H gV)))) V^H)."""
    w, V = _eig_vectors(flag, A, outputs)
    VH = mx.conj(_mT(V))
    inner = _diag_embed(cotangents[0].astype(mx.complex64))
    if flag & 1 and len(cotangents) > 1 and cotangents[1] is not None:
        P = VH @ cotangents[1].astype(mx.complex64)
        P = P - (VH @ V) * mx.expand_dims(mx.real(_diag(P)), -2).astype(mx.complex64)
        inner = inner + mx.conj(_eig_gap_inv(w)) * P
    gA = mx.conj(_mT(_cinv(V))) @ inner @ VH
    return mx.real(gA)


def _qr_jvp(A, Q, R, dA):
    # reduced QR with m >= n (R square, invertible)
    Rinv = _lap(TRI_INV, 1, R)[0]
    C = _mT(Q) @ dA @ Rinv
    low = mx.tril(C, -1)
    Om = low - _mT(low)
    dQ = Q @ Om + (dA @ Rinv - Q @ C)
    dR = (C - Om) @ R
    return [dQ, dR]


def _qr_vjp(A, Q, R, gQ, gR):
    M = R @ _mT(gR) - _mT(gQ) @ Q
    low = mx.tril(M, -1)
    copyltu = low + _mT(low) + _diag_embed(_diag(M))
    B = gQ + Q @ copyltu
    # gA = B R^-T: solve R X^T = B^T
    return _mT(_solve_tri(R, _mT(B), True))


def _svd_parts(A):
    """Reduced SVD outputs (U m*k, s, Vt k*n) of A."""
    return _lap(SVD, 2, A)


def _svd_jvp(flag, A, outs, dA):
    m, n = A.shape[-2], A.shape[-1]
    if flag == 0:
        U, s, Vt = _svd_parts(A)
        return [_diag(_mT(U) @ dA @ _mT(Vt))]
    U, s, Vt = outs
    if flag == 1 and m != n:
        raise NotImplementedError("[linalg::svd] jvp of the full U and Vt of a non-square "
                                  "matrix is not defined; use compute_uv=False or a "
                                  "square matrix.")
    V = _mT(Vt)
    P = _mT(U) @ dA @ V
    ds = _diag(P)
    s2 = s * s
    F = _eig_gap_inv(s2)           # 1 / (s_j^2 - s_i^2)
    dU = U @ (F * (P * mx.expand_dims(s, -2) + mx.expand_dims(s, -1) * _mT(P)))
    dV = V @ (F * (mx.expand_dims(s, -1) * P + _mT(P) * mx.expand_dims(s, -2)))
    k = s.shape[-1]
    if m > k:     # reduced U of a tall matrix: the part outside U's span
        dU = dU + (dA @ V - U @ P) / mx.expand_dims(s, -2)
    if n > k:
        dV = dV + (_mT(dA) @ U - V @ _mT(P)) / mx.expand_dims(s, -2)
    return [dU, ds, _mT(dV)]


def _svd_vjp(flag, A, outs, cots):
    m, n = A.shape[-2], A.shape[-1]
    if flag == 0:
        U, s, Vt = _svd_parts(A)
        return U @ (mx.expand_dims(cots[0], -1) * Vt)
    U, s, Vt = outs
    gU, gs, gVt = cots
    if flag == 1 and m != n:
        raise NotImplementedError("[linalg::svd] vjp of the full U and Vt of a non-square "
                                  "matrix is not defined; use compute_uv=False or a "
                                  "square matrix.")
    V, gV = _mT(Vt), _mT(gVt)
    F = _eig_gap_inv(s * s)
    J = F * (_mT(U) @ gU)
    K = F * (_mT(V) @ gV)
    # U [(J + J^T) S + diag(gs) + S (K + K^T)] V^T, J + J^T = F o (U^T gU - gU^T U)
    inner = _diag_embed(gs) + (J + _mT(J)) * mx.expand_dims(s, -2) \
        + mx.expand_dims(s, -1) * (K + _mT(K))
    gA = U @ inner @ Vt
    k = s.shape[-1]
    if m > k:
        gA = gA + (gU - U @ (_mT(U) @ gU)) @ (Vt / mx.expand_dims(s, -1))
    if n > k:
        gA = gA + (U / mx.expand_dims(s, -2)) @ _mT(gV - V @ (_mT(V) @ gV))
    return gA


def _lu_unpack(LU):
    m, n = LU.shape[-2], LU.shape[-1]
    k = min(m, n)
    L = mx.tril(LU[..., :, :k], -1) + mx.eye(m, k, dtype=LU.dtype)
    U = mx.triu(LU[..., :k, :])
    return L, U


def _perm_rows(perm, x):
    """x[..., perm, :] for a batched row permutation perm."""
    idx = mx.broadcast_to(mx.expand_dims(perm.astype(mx.int32), -1), x.shape)
    return mx.take_along_axis(x, idx, axis=-2)


def _lu_perm(A):
    """perm with A[perm] = L U (the inverse of lu's P)."""
    P = _lap(LU, 1, A)[2]
    return mx.argsort(P, axis=-1)


def _lu_sq_jvp(L, U, dX):
    """Square X = L U (rows already permuted): the packed tangent dL + dU, from
    F = L^-1 dX U^-1:  dL = L tril(F, -1), dU = triu(F) U."""
    F = _solve_tri(L, dX, False)
    F = _mT(_solve_tri(_mT(U), _mT(F), False))      # F U^-1
    return L @ mx.tril(F, -1) + mx.triu(F) @ U


def _lu_sq_vjp(L, U, gL, gU):
    """Square X = L U: gX = L^-T [tril(L^T gL, -1) + triu(gU U^T)] U^-T."""
    M = mx.tril(_mT(L) @ gL, -1) + mx.triu(gU @ _mT(U))
    X = _solve_tri(_mT(L), M, True)
    return _mT(_solve_tri(U, _mT(X), True))


def _lu_jvp(A, LU, dA):
    """A[perm] = L U.  Tall (m > n): the top n rows are square, L2 = Z U^-1 below;
    wide (m < n): the left m columns are square, U2 = L^-1 Y beside."""
    m, n = A.shape[-2], A.shape[-1]
    k = min(m, n)
    L, U = _lu_unpack(LU)
    dAp = _perm_rows(_lu_perm(A), dA)
    if m == n:
        return _lu_sq_jvp(L, U, dAp)
    if m > n:
        L1, L2 = L[..., :n, :], L[..., n:, :]
        top = _lu_sq_jvp(L1, U, dAp[..., :n, :])
        dU = mx.triu(top)
        dL2 = _mT(_solve_tri(_mT(U), _mT(dAp[..., n:, :] - L2 @ dU), False))   # (.) U^-1
        return mx.concatenate([top, dL2], axis=-2)
    U1, U2 = U[..., :, :k], U[..., :, k:]
    left = _lu_sq_jvp(L, U1, dAp[..., :, :k])
    dL = mx.tril(left, -1)
    dU2 = _solve_tri(L, dAp[..., :, k:] - dL @ U2, False)
    return mx.concatenate([left, dU2], axis=-1)


def _lu_vjp(A, LU, G):
    m, n = A.shape[-2], A.shape[-1]
    k = min(m, n)
    L, U = _lu_unpack(LU)
    if m == n:
        gAp = _lu_sq_vjp(L, U, mx.tril(G, -1), mx.triu(G))
    elif m > n:
        # L2 = Z U^-1: its cotangent reaches Z and, through U, the square part
        L1, L2 = L[..., :n, :], L[..., n:, :]
        gL2 = G[..., n:, :]
        gZ = _mT(_solve_tri(U, _mT(gL2), True))                # gL2 U^-T
        gU = mx.triu(G[..., :n, :]) - mx.triu(_mT(L2) @ gZ)
        gX = _lu_sq_vjp(L1, U, mx.tril(G[..., :n, :], -1), gU)
        gAp = mx.concatenate([gX, gZ], axis=-2)
    else:
        # U2 = L^-1 Y: its cotangent reaches Y and, through L, the square part
        U1, U2 = U[..., :, :k], U[..., :, k:]
        gU2 = G[..., :, k:]
        gY = _solve_tri(_mT(L), gU2, True)                     # L^-T gU2
        gL = mx.tril(G[..., :, :k], -1) - mx.tril(gY @ _mT(U2), -1)
        gX = _lu_sq_vjp(L, U1, gL, mx.triu(G[..., :, :k]))
        gAp = mx.concatenate([gX, gY], axis=-1)
    return _perm_rows(mx.argsort(_lu_perm(A), axis=-1), gAp)    # rows back to A's order


# ---------------------------------------------------------------- dispatch

def jvp(op, flag, primals, tangents, argnums, outputs):
    A = primals[0]
    dA = dB = None
    for t, i in zip(tangents, argnums):
        if i == 0:
            dA = t
        else:
            dB = t
    if dA is None and op not in (SOLVE, SOLVE_TRI):
        return [mx.zeros(o.shape, o.dtype) for o in outputs]
    if op == SOLVE or op == SOLVE_TRI:
        X = outputs[0]
        rhs = None
        if dB is not None:
            rhs = dB
        if dA is not None:
            if op == SOLVE_TRI:
                dA = _tri(dA, flag & 1)
            term = -(dA @ X)
            rhs = term if rhs is None else rhs + term
        return [_solve(A, rhs) if op == SOLVE else _solve_tri(A, rhs, flag & 1)]
    if op == CHOLESKY:
        return [_cholesky_jvp(flag & 1, outputs[0], dA)]
    if op == TRI_INV:
        X = outputs[0]
        return [-(X @ _tri(dA, flag & 1) @ X)]
    if op == INV:
        X = outputs[0]
        return [-(X @ dA @ X)]
    if op == SLOGDET:
        sign, _ = outputs
        dl = mx.sum(_diag(_solve(A, dA)), axis=-1)
        return [mx.zeros_like(sign), dl]
    if op == EIGH:
        w = outputs[0]
        V = outputs[1] if flag & 2 else _lap(EIGH, flag | 2, A)[1]
        return _eigh_jvp(flag, w, V, dA)
    if op == QR:
        m, n = A.shape[-2], A.shape[-1]
        Q, R = outputs
        if m >= n:
            return _qr_jvp(A, Q, R, dA)
        # wide: A = [X Y] = Q [R1 R2] with X square; dR2 = Q^T (dY - dQ R2)
        dQ, dR1 = _qr_jvp(A[..., :m], Q, R[..., :m], dA[..., :m])
        dR2 = _mT(Q) @ (dA[..., m:] - dQ @ R[..., m:])
        return [dQ, mx.concatenate([dR1, dR2], axis=-1)]
    if op == SVD:
        return _svd_jvp(flag, A, outputs, dA)
    if op == LU:
        res = [_lu_jvp(A, outputs[0], dA), mx.zeros_like(outputs[1])]
        if flag & 1:
            res.append(mx.zeros_like(outputs[2]))
        return res
    if op == EIG:
        return _eig_jvp(flag, A, outputs, dA)
    raise NotImplementedError(f"[linalg] no jvp rule for op {op}.")


def vjp(op, flag, primals, cotangents, argnums, outputs):
    A = primals[0]
    if op == SOLVE or op == SOLVE_TRI:
        X, G = outputs[0], cotangents[0]
        upper = flag & 1
        gB = _solve(_mT(A), G) if op == SOLVE else _solve_tri(_mT(A), G, not upper)
        res = []
        for i in argnums:
            if i == 1:
                res.append(_unbroadcast(gB, primals[1]))
            else:
                gA = -(gB @ _mT(X))
                if op == SOLVE_TRI:
                    gA = _tri(gA, upper)
                res.append(_unbroadcast(gA, A))
        return res
    if op == CHOLESKY:
        g = _cholesky_vjp(flag & 1, outputs[0], cotangents[0])
    elif op == TRI_INV:
        X = outputs[0]
        g = _tri(-(_mT(X) @ cotangents[0] @ _mT(X)), flag & 1)
    elif op == INV:
        X = outputs[0]
        g = -(_mT(X) @ cotangents[0] @ _mT(X))
    elif op == SLOGDET:
        g = mx.expand_dims(mx.expand_dims(cotangents[1], -1), -1) * _mT(
            _solve(A, mx.broadcast_to(_eye_like(A), A.shape)))
    elif op == EIGH:
        w = outputs[0]
        if flag & 2:
            g = _eigh_vjp(flag, w, outputs[1], cotangents[0], cotangents[1])
        else:
            V = _lap(EIGH, flag | 2, A)[1]
            g = _eigh_vjp(flag, w, V, cotangents[0], None)
    elif op == QR:
        m, n = A.shape[-2], A.shape[-1]
        Q, R = outputs
        gQ, gR = cotangents
        if m >= n:
            g = _qr_vjp(A, Q, R, gQ, gR)
        else:
            # wide: A = [X Y], X = Q R1 square, Y = Q R2: R2's cotangent reaches Q and Y
            gR2 = gR[..., m:]
            gX = _qr_vjp(A[..., :m], Q, R[..., :m], gQ + A[..., m:] @ _mT(gR2),
                         gR[..., :m])
            g = mx.concatenate([gX, Q @ gR2], axis=-1)
    elif op == SVD:
        g = _svd_vjp(flag, A, outputs, cotangents)
    elif op == LU:
        g = _lu_vjp(A, outputs[0], cotangents[0])
    elif op == EIG:
        g = _eig_vjp(flag, A, outputs, cotangents)
    else:
        raise NotImplementedError(f"[linalg] no vjp rule for op {op}.")
    return [g.astype(A.dtype) if g.dtype != A.dtype else g]


def vmap(op, flag, inputs, axes):
    """Every Lapack op is batched over leading axes: batch axes go to the front (an
    unbatched operand of a solve broadcasts against the batch)."""
    from mlxc._core.ops.lapack import lapack
    from mlxc._core.prims.rulekit import batch_size, materialize_batch
    if all(ax < 0 for ax in axes):
        return lapack(op, flag, *inputs), [-1] * _n_outputs(op, flag)
    size = batch_size(inputs, axes)
    moved = [materialize_batch(x, ax, size) for x, ax in zip(inputs, axes)]
    outs = lapack(op, flag, *moved)
    return outs, [0] * len(outs)


def _n_outputs(op, flag):
    if op in (SOLVE, SOLVE_TRI, CHOLESKY, TRI_INV, INV):
        return 1
    if op == SVD:
        return 1 if flag == 0 else 3
    if op == EIGH:
        return 2 if flag & 2 else 1
    if op == EIG:
        return 2 if flag & 1 else 1
    if op == LU:
        return 3 if flag & 1 else 2
    return 2
