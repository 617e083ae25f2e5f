# The DLPack ABI (https://dmlc.github.io/dlpack/latest/c_api.html), version 1.0, written
# from the specification.  Cython emits these as plain C structs; their layout is the ABI.
from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t

cdef enum:
    DLPACK_MAJOR = 1
    DLPACK_MINOR = 0
    # DLDeviceType (the host-readable ones; the enum is a C int in the ABI)
    kDLCPU = 1
    kDLCUDAHost = 3
    kDLROCMHost = 11
    # DLDataTypeCode
    kDLInt = 0
    kDLUInt = 1
    kDLFloat = 2
    kDLBfloat = 4
    kDLComplex = 5
    kDLBool = 6
    # DLManagedTensorVersioned.flags bits
    DLPACK_FLAG_READ_ONLY = 1
    DLPACK_FLAG_IS_COPIED = 2

ctypedef struct DLDevice:
    int32_t device_type          # DLDeviceType
    int32_t device_id

ctypedef struct DLDataType:
    uint8_t code                 # DLDataTypeCode
    uint8_t bits
    uint16_t lanes

ctypedef struct DLTensor:
    void *data
    DLDevice device
    int32_t ndim
    DLDataType dtype
    int64_t *shape
    int64_t *strides             # in elements; NULL means compact row-major
    uint64_t byte_offset

# The pre-1.0 ("dltensor") capsule payload.
ctypedef struct DLManagedTensor:
    DLTensor dl_tensor
    void *manager_ctx
    void (*deleter)(DLManagedTensor *self) noexcept nogil

ctypedef struct DLPackVersion:
    uint32_t major
    uint32_t minor

# The 1.x ("dltensor_versioned") capsule payload.
ctypedef struct DLManagedTensorVersioned:
    DLPackVersion version
    void *manager_ctx
    void (*deleter)(DLManagedTensorVersioned *self) noexcept nogil
    uint64_t flags
    DLTensor dl_tensor

# ---- mlxc's side (dlpack.pyx)
from mlxc._core.array cimport array

# x's data as an evaluated array of dtype code `want` (-1: MLX's mapping of the source
# dtype); shares the memory unless copy is True or sharing is impossible (copy False: raise).
cdef array import_dlpack(object x, int want, object copy)
# An evaluated row-major copy of the evaluated array a, cast to dtype code dst.
cdef array contiguous_copy(array a, int dst)
