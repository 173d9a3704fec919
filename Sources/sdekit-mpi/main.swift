import CMPI
import sdekit

// MPI calls come from this thread only; sampling threads never make them.
var provided: Int32 = 0
MPI_Init_thread(nil, nil, sdekit_mpi_thread_funneled(), &provided)
runSDEKit(across: MPICluster())
