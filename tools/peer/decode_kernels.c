// Single-threaded CPU time of one decode token's quantised products on SmolLM2-135M's shapes (30 layers of
// q, k, v, o, gate, up, down as Q4_1, then the 49152 x 576 Q8_0 unembedding), random blocks, one activation row,
// through CQuantKernels' lq_matmul_rows on one path: how docs/performance.md measures a kernel change apart from
// the row pool and the machine's load. KB_DUMP=file also writes every product's outputs for 1-3 activation rows,
// so two builds of the kernels can be compared bit for bit (cmp).
//   S=Sources/CQuantKernels; echo 'int lazarus_cpu_features(void){return 255;}' > /tmp/f.c
//   clang -O2 -I$S/include tools/peer/decode_kernels.c $S/quant_kernels.c $S/mxfp4_kernels.c /tmp/f.c -lm -o /tmp/dk
//   /tmp/dk PATH [REPEATS]   (PATH: 0 scalar, 1 avx2, 2 avx512vnni, 3 avx512vnni-int8; 255 claims every feature,
//   so run only the paths this CPU has)
#include "CQuantKernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
static double tcpu(){struct timespec t;clock_gettime(CLOCK_THREAD_CPUTIME_ID,&t);return t.tv_sec+t.tv_nsec*1e-9;}
typedef struct {int type,n,k; uint8_t *w; size_t rb;} M;
static M mk(int type,int n,int k){M m={type,n,k};int bb=lq_block_bytes(type);m.rb=(size_t)(k/32)*bb;m.w=malloc(m.rb*n);
 for(size_t i=0;i<m.rb*n;i++)m.w[i]=rand();
 for(size_t b=0;b<(size_t)n*(k/32);b++){uint8_t*p=m.w+b*bb;p[0]=0x00;p[1]=0x20;if(type==LQ_TYPE_Q4_1){p[2]=0x00;p[3]=0xA0;}}
 return m;}
int main(int argc,char**argv){int path=argc>1?atoi(argv[1]):2;int reps=argc>2?atoi(argv[2]):20;
 srand(1);M ms[300];int nm=0;
 for(int l=0;l<30;l++){int sh[7][2]={{576,576},{192,576},{192,576},{576,576},{1536,576},{1536,576},{576,1536}};for(int j=0;j<7;j++)ms[nm++]=mk(LQ_TYPE_Q4_1,sh[j][0],sh[j][1]);}
 ms[nm++]=mk(LQ_TYPE_Q8_0,49152,576);
 float*x=malloc(4*1536);for(int i=0;i<1536;i++)x[i]=(rand()/(float)RAND_MAX-0.5f)*(i%97==0?20:1);
 void*s576=malloc(lq_activation_bytes(path,576,1)+64),*s1536=malloc(lq_activation_bytes(path,1536,1)+64);
 lq_prepare_activations(path,x,576,1,s576);lq_prepare_activations(path,x,1536,1,s1536);
 float*y=malloc(4*49152);double best=1e9;double sum=0;
 for(int r=0;r<reps;r++){double t0=tcpu();
  for(int i=0;i<nm;i++){M*m=&ms[i];if(!lq_matmul_rows(path,m->type,m->w,m->rb,m->k,0,m->n,x,1,m->k==576?s576:s1536,y,m->n)){printf("refused\n");return 1;}sum+=y[0];}
  double t=tcpu()-t0;if(t<best)best=t;}
 long blocks=0;for(int i=0;i<nm;i++)blocks+=(long)ms[i].n*(ms[i].k/32);
 if(getenv("KB_DUMP")){FILE*f=fopen(getenv("KB_DUMP"),"wb");for(int i=0;i<nm;i++){M*m=&ms[i];for(int nx=1;nx<=3;nx++){float*xx=malloc(4*1536*nx);for(int j=0;j<1536*nx;j++)xx[j]=x[j%1536]*(1+0.1f*(j/1536));void*sc=malloc(lq_activation_bytes(path,m->k,nx)+64);lq_prepare_activations(path,xx,m->k,nx,sc);float*yy=malloc(4L*m->n*nx);lq_matmul_rows(path,m->type,m->w,m->rb,m->k,0,m->n,xx,nx,sc,yy,m->n);fwrite(yy,4,(size_t)m->n*nx,f);free(yy);free(sc);free(xx);}}fclose(f);}
 printf("path %d: %.3f ms a token (%.2f ns a block, %ld blocks) check %g\n",path,best*1e3,best*1e9/blocks,blocks,sum);}
