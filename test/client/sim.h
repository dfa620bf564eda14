/*
 * The vaultclient tests that run against the Transit test server
 * (test/vaultsim/vaultsim), plain and over TLS.
 */
#ifndef SIM_H
#define SIM_H

/* Runs the group; returns the number of failed tests. */
int sim_tests(void);

#endif
