//! Where secret material comes from. Production code uses the operating system's CSPRNG;
//! tests and demos can use a seeded generator so their output is reproducible.

use rand::rngs::{StdRng, SysRng};
use rand::{Rng, SeedableRng, TryRng};

use crate::error::Error;

pub trait Entropy: Send {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), Error>;
}

/// The operating system's cryptographically secure generator (`getrandom`).
#[derive(Debug, Default, Clone, Copy)]
pub struct OsEntropy;

impl Entropy for OsEntropy {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), Error> {
        SysRng
            .try_fill_bytes(buf)
            .map_err(|e| Error::Entropy(Box::new(e)))
    }
}

/// A reproducible generator for tests, snapshots and benchmarks. Never use it for real keys:
/// anyone who knows the seed knows every secret.
pub struct SeededEntropy(StdRng);

impl SeededEntropy {
    pub fn new(seed: u64) -> SeededEntropy {
        SeededEntropy(StdRng::seed_from_u64(seed))
    }
}

impl Entropy for SeededEntropy {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), Error> {
        self.0.fill_bytes(buf);
        Ok(())
    }
}
