-- Handing a document over at the counter (seed 004): in person or by a proxy with a signed power of
-- attorney. Who collected is kept with the application; the proxy's name is personal data and is
-- erased with the application's other personal data.
ALTER TABLE application
    ADD COLUMN handover_recipient text CHECK (handover_recipient IN ('applicant', 'proxy')),
    ADD COLUMN proxy_name text CHECK (length(proxy_name) BETWEEN 1 AND 200),
    ADD CONSTRAINT application_proxy_named CHECK (handover_recipient IS DISTINCT FROM 'proxy' OR proxy_name IS NOT NULL OR personal_data_erased_at IS NOT NULL);
