// Diagnostic for docs/performance.md ("sgemm at 1024^3 does not scale"): T threads, each calling scipy-openblas32's
// single-threaded sgemm on its share of the rows of an N x N x N product. gcc -O2 concurrent_sgemm.c -ldl -lpthread;
// ./a.out N T (the library path is the bootstrap's, under .lazarus-deps/). Run it with OPENBLAS_NUM_THREADS=1: without
// it OpenBLAS starts an idle pool thread that spins on the second core for ~0.1 s, the whole run (docs/performance.md).
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
typedef void (*sg)(int,int,int,int,int,int,float,const float*,int,const float*,int,float,float*,int);
typedef void (*st)(int);
static sg f; static int N; static float *A,*B,*C; static int parts;
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
typedef struct {int begin,end;} R;
static void *run(void *p){R*r=p; /* rows of C */
  f(101,111,112,r->end-r->begin,N,N,1.0f,A+(size_t)r->begin*N,N,B,N,0.0f,C+(size_t)r->begin*N,N); return 0;}
int main(int argc,char**argv){if(argc<3||(N=atoi(argv[1]))<=0||(parts=atoi(argv[2]))<1||parts>8){fprintf(stderr,"usage: %s N THREADS(1-8)\n",argv[0]);return 1;}
  void*h=dlopen(".lazarus-deps/scipy-openblas32/lib/libscipy_openblas.so",RTLD_NOW);
  if(!h){fprintf(stderr,"%s (run from the package root after scripts/bootstrap.sh)\n",dlerror());return 1;}
  f=(sg)dlsym(h,"scipy_cblas_sgemm"); st s=(st)dlsym(h,"scipy_openblas_set_num_threads"); s(1);
  A=malloc(4L*N*N);B=malloc(4L*N*N);C=malloc(4L*N*N);for(long i=0;i<(long)N*N;i++){A[i]=rand()/(float)RAND_MAX;B[i]=A[i]*0.5f;}
  for(int rep=0;rep<7;rep++){double t0=now();
    pthread_t th[8];R r[8];for(int p=0;p<parts;p++){r[p].begin=N*p/parts;r[p].end=N*(p+1)/parts;pthread_create(&th[p],0,run,&r[p]);}
    for(int p=0;p<parts;p++)pthread_join(th[p],0);
    double t=now()-t0; printf("N=%d parts=%d %.0f GFLOP/s\n",N,parts,2.0*N*N*(double)N/t/1e9);}
}
