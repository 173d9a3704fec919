// Open MPI through pkg-config ompi-c (libopenmpi-dev). MPI_COMM_WORLD, the datatypes, the
// operations and the sentinels are macros over addresses of Open MPI's globals, which Swift
// does not import: these accessors return them.
#include <mpi.h>

static inline MPI_Comm sdekit_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype sdekit_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype sdekit_mpi_int(void) { return MPI_INT; }
static inline MPI_Datatype sdekit_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Op sdekit_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Op sdekit_mpi_min(void) { return MPI_MIN; }
static inline void *sdekit_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline MPI_Info sdekit_mpi_info_null(void) { return MPI_INFO_NULL; }
static inline MPI_Status *sdekit_mpi_status_ignore(void) { return MPI_STATUS_IGNORE; }
static inline MPI_Errhandler sdekit_mpi_errors_return(void) { return MPI_ERRORS_RETURN; }
static inline int sdekit_mpi_mode_create_write(void) { return MPI_MODE_CREATE | MPI_MODE_WRONLY; }
static inline int sdekit_mpi_thread_funneled(void) { return MPI_THREAD_FUNNELED; }
