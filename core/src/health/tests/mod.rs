mod duration;
mod scheduler;
mod status;
