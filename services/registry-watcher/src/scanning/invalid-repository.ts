/** A scan that cannot succeed until the object changes (bad image name, bad exclusion regex). */
export class InvalidRepositoryError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'InvalidRepositoryError';
  }
}
