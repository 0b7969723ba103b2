/* isa_list.h — the runtime functions built once per x86-64 level (v4: AVX-512, v3:
 * AVX2+FMA, v1: SSE2) and chosen when the program starts by what its CPU has (isa.c).
 * One line per exported function of the files in the Makefile's RT_HOT; each level's
 * copy is renamed NAME_v4 / NAME_v3 / NAME_v1 (build/runtime/isa_vN.h, made from this
 * list) and NAME itself resolves to one of them. A function missing here fails the link
 * (three definitions of it); a name here that no file defines fails it too. */
RT_ISA_FN(nnl_sgemm)
RT_ISA_FN(nnl_sgemm_batched)
RT_ISA_FN(nnl_sgemm_ep)
RT_ISA_FN(nnl_sgemm_batched_ep)
RT_ISA_FN(nnl_sgemm_batched_v)
RT_ISA_FN(nnl_conv2d)
RT_ISA_FN(nnl_conv2d_dx)
RT_ISA_FN(nnl_conv2d_dw)
RT_ISA_FN(nnl_conv2d_dw_maxpool)
RT_ISA_FN(nnl_conv2d_maxpool)
RT_ISA_FN(nnl_maxpool2d)
RT_ISA_FN(nnl_maxpool2d_dx)
RT_ISA_FN(nnl_avgpool2d)
RT_ISA_FN(nnl_avgpool2d_dx)
RT_ISA_FN(rt_maxpool2d_argmax)
RT_ISA_FN(rt_maxpool2d_dx_planes)
RT_ISA_FN(nnl_softmax_rows)
RT_ISA_FN(nnl_softmax_rows_dx)
RT_ISA_FN(nnl_layer_norm_rows)
RT_ISA_FN(nnl_layer_norm_rows_dx)
RT_ISA_FN(nnl_reduce_sum)
RT_ISA_FN(nnl_stack)
RT_ISA_FN(nnl_pick)
RT_ISA_FN(nnl_unpick)
RT_ISA_FN(nnl_embedding_dw)
RT_ISA_FN(nnl_embedding_dw_rows)
