import CMPI
import Foundation
import sdekit

// SIGINT and SIGTERM (mpirun's way of stopping a rank) are blocked before MPI starts its threads,
// which inherit the mask: `Interrupt` takes them with sigwait on a thread of its own, and a
// thread that left them unblocked could take one instead, whose default action ends the rank
// without a word (rank 0's message was lost in half of the trials).
var stopping = sigset_t()
sigemptyset(&stopping)
sigaddset(&stopping, SIGINT)
sigaddset(&stopping, SIGTERM)
pthread_sigmask(SIG_BLOCK, &stopping, nil)

// MPI calls come from this thread only; sampling threads never make them.
var provided: Int32 = 0
MPI_Init_thread(nil, nil, sdekit_mpi_thread_funneled(), &provided)
runSDEKit(across: MPICluster())
