/* SPDX-License-Identifier: MIT */
/* The RISC-V ISA extensions a KVM host may offer (Linux 6.12's list): the
 * one list that --cpu-features accepts (core/config.c) and the vCPU code
 * probes (arch/riscv64/cpu.c).  X(name, ID): the name as the ISA string
 * writes it, and KVM's KVM_RISCV_ISA_EXT_<ID>; in the order the FDT and the
 * RHCT list them. */
#ifndef RIVET_ISA_EXTS_H
#define RIVET_ISA_EXTS_H

#define RIVET_ISA_EXTS(X) \
	X(i, I) X(m, M) X(a, A) X(f, F) X(d, D) X(c, C) X(v, V) X(h, H) \
	X(zicbom, ZICBOM) X(zicboz, ZICBOZ) X(zicntr, ZICNTR) \
	X(zicond, ZICOND) X(zicsr, ZICSR) X(zifencei, ZIFENCEI) \
	X(zihintntl, ZIHINTNTL) X(zihintpause, ZIHINTPAUSE) X(zihpm, ZIHPM) \
	X(zimop, ZIMOP) X(zacas, ZACAS) X(zawrs, ZAWRS) X(zfa, ZFA) \
	X(zfh, ZFH) X(zfhmin, ZFHMIN) X(zca, ZCA) X(zcb, ZCB) X(zcd, ZCD) \
	X(zcf, ZCF) X(zcmop, ZCMOP) X(zba, ZBA) X(zbb, ZBB) X(zbc, ZBC) \
	X(zbkb, ZBKB) X(zbkc, ZBKC) X(zbkx, ZBKX) X(zbs, ZBS) X(zknd, ZKND) \
	X(zkne, ZKNE) X(zknh, ZKNH) X(zkr, ZKR) X(zksed, ZKSED) \
	X(zksh, ZKSH) X(zkt, ZKT) X(ztso, ZTSO) X(zvbb, ZVBB) X(zvbc, ZVBC) \
	X(zvfh, ZVFH) X(zvfhmin, ZVFHMIN) X(zvkb, ZVKB) X(zvkg, ZVKG) \
	X(zvkned, ZVKNED) X(zvknha, ZVKNHA) X(zvknhb, ZVKNHB) \
	X(zvksed, ZVKSED) X(zvksh, ZVKSH) X(zvkt, ZVKT) \
	X(smstateen, SMSTATEEN) X(ssaia, SSAIA) X(sscofpmf, SSCOFPMF) \
	X(sstc, SSTC) X(svinval, SVINVAL) X(svnapot, SVNAPOT) \
	X(svpbmt, SVPBMT)

#endif
