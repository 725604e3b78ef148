//! Raw bindings to netspec's UAPI and its syscall numbers.
//!
//! Nothing here is written by hand: `build.rs` takes, from the patches in
//! `patches/6.12/`,
//! - `<linux/netspec.h>`: the `netspec()` operations and their structs, the
//!   paths, events, policies and `customized_send()` flags;
//! - `<linux/netspec_nl.h>`: the `netspec` generic netlink family (its name,
//!   version, commands and attributes);
//! - what the series adds to the target's `<asm/socket.h>`: [`SO_ADU`];
//!
//! and runs bindgen on them, and takes [`SYS_netspec`] and
//! [`SYS_customized_send`] for the target architecture from
//! `kernel-syscalls.toml`.
//! Items keep their C names (`netspec_query`, `NETSPEC_OP_QUERY`,
//! `NETSPEC_A_INST_ID`).
//!
//! Architecture invariant: no logic and no safe API (that is the `netspec`
//! crate); no fact that the series or `kernel-syscalls.toml` already states.

#![no_std]

/// The items of the headers, as bindgen generates them.
#[allow(
    non_camel_case_types,
    non_upper_case_globals,
    non_snake_case,
    missing_docs
)]
mod uapi {
    include!(concat!(env!("OUT_DIR"), "/bindings.rs"));
}
pub use uapi::*;

include!(concat!(env!("OUT_DIR"), "/sys_netspec.rs"));

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{align_of, offset_of, size_of};

    #[test]
    fn every_struct_is_its_published_size_on_every_abi() {
        assert_eq!(size_of::<netspec_query>(), NETSPEC_QUERY_SIZE_VER0 as usize);
        assert_eq!(size_of::<netspec_customize>(), NETSPEC_CUSTOMIZE_SIZE_VER0 as usize);
        assert_eq!(size_of::<netspec_info>(), NETSPEC_INFO_SIZE_VER0 as usize);
        // __aligned_u64: the same layout on 32-bit ABIs, so no compat entry.
        assert_eq!(align_of::<netspec_query>(), 8);
        assert_eq!(align_of::<netspec_info>(), 8);
        // No 64-bit member: 4-aligned, also the same on every ABI.
        assert_eq!(align_of::<netspec_customize>(), 4);
    }

    #[test]
    fn the_sizes_are_the_published_numbers() {
        // What the series documents; a change here is an ABI break.
        assert_eq!(NETSPEC_QUERY_SIZE_VER0, 48);
        assert_eq!(NETSPEC_CUSTOMIZE_SIZE_VER0, 56);
        assert_eq!(NETSPEC_INFO_SIZE_VER0, 112);
        assert_eq!(offset_of!(netspec_customize, policy), 40);
        assert_eq!(offset_of!(netspec_customize, token), 48);
        assert_eq!(offset_of!(netspec_info, policy), 48);
        assert_eq!(offset_of!(netspec_info, id), 104);
    }

    #[test]
    fn the_token_is_a_descriptor() {
        // An int, as open() returns and close() takes.
        let c = netspec_customize::default();
        let i = netspec_info::default();
        let _: core::ffi::c_int = c.token;
        let _: core::ffi::c_int = i.token;
    }

    #[test]
    fn every_event_has_a_policy_byte() {
        let c = netspec_customize::default();
        let i = netspec_info::default();
        let q = netspec_query::default();
        const { assert!(NETSPEC_EVENTS <= NETSPEC_POLICY_SLOTS) };
        assert_eq!(c.policy.len(), NETSPEC_POLICY_SLOTS as usize);
        assert_eq!(i.policy.len(), NETSPEC_POLICY_SLOTS as usize);
        assert_eq!(q.policies.len(), NETSPEC_POLICY_SLOTS as usize);
        // Policies are bytes in customize and info, and bits of a byte in
        // query: every one must fit both.
        const { assert!(NETSPEC_POLICY_REINFORCE < u8::BITS) };
    }

    #[test]
    fn send_flags_are_netspec_s_own_bits() {
        assert_eq!(NETSPEC_SEND_DONTWAIT, 1);
        assert_eq!(NETSPEC_SEND_BATCH, 2);
        assert_eq!(NETSPEC_BATCH_MAX, 1024);
    }

    #[test]
    fn so_adu_comes_from_the_series_asm_socket_h() {
        // A #define the series adds to <asm/socket.h>, the same number on
        // every architecture.
        assert_eq!(SO_ADU, 0x4e53);
    }

    #[test]
    fn the_generic_netlink_family_is_the_series() {
        assert_eq!(NETSPEC_FAMILY_NAME, b"netspec\0");
        const { assert!(NETSPEC_FAMILY_VERSION >= 1) };
        assert_eq!(NETSPEC_A_INST_ID, 1);
        assert_eq!(NETSPEC_A_STATS_HITS, 1);
        const { assert!(NETSPEC_CMD_INST_GET >= 1 && NETSPEC_CMD_STATS_GET > NETSPEC_CMD_INST_GET) };
        assert_eq!(NETSPEC_A_INST_MAX, NETSPEC_A_INST_CODE_WANTED);
        assert_eq!(NETSPEC_A_INST_CODE_WANTED, NETSPEC_A_INST_REWRITES + 1);
        assert_eq!(NETSPEC_A_STATS_MAX, NETSPEC_A_STATS_CODE_REQUESTS_DROPPED);
        // The code requests: an event on a group of the family's own.
        assert_eq!(NETSPEC_MCGRP_CODE, b"code\0");
        const { assert!(NETSPEC_CMD_CODE_REQUEST > NETSPEC_CMD_STATS_GET) };
        assert_eq!(NETSPEC_A_CODE_MAX, NETSPEC_A_CODE_ADU);
        assert_eq!(NETSPEC_CODE_CSUM_NONE, 2);
    }

    #[test]
    fn syscall_numbers_are_the_generic_ones_on_this_target() {
        // Every arch this crate builds for follows the generic numbering
        // (alpha, the one exception, is not one of them).
        assert_eq!(SYS_netspec & 0xffff, 600);
        assert_eq!(SYS_customized_send & 0xffff, 601);
    }
}
